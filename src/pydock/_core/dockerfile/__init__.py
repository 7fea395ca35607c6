"""A typed Dockerfile model: instructions, a fluent builder, a renderer and a parser.

Every instruction is a small frozen attrs class; :class:`Dockerfile` holds a tuple
of them plus the parser directives (``syntax``, ``escape``, ``check``). Builder
methods return new :class:`Dockerfile` objects, ``str(df)`` renders the text and
:meth:`Dockerfile.parse` reads text back, following BuildKit's parser: parser
directives, comments, line continuations (comment and blank lines inside a
continuation are skipped), case-insensitive keywords, exec (JSON array) versus
shell form, ``--flag=value`` flags, the legacy ``ENV key value`` form and so on.

For every Dockerfile this module can build, ``Dockerfile.parse(str(df)) == df``.

What the strings in the model mean:

* Shell-form commands (``RUN``, ``CMD``, ``ENTRYPOINT``, ``HEALTHCHECK CMD``) and the
  single-string instructions (``WORKDIR``, ``USER``, ``MAINTAINER``, ``STOPSIGNAL``)
  hold the text exactly as Docker will see it, with surrounding whitespace
  stripped as Docker does. Exec-form commands are tuples of strings.
* ``COPY``/``ADD``/``VOLUME`` paths, ``FROM`` images and ``EXPOSE`` ports are the
  words as written; Docker substitutes ``$variables`` in them later.
* ``ENV``/``LABEL`` keys and values and ``ARG`` defaults hold the value with
  Docker's quoting removed but ``$variable`` references left in place for
  Docker to expand. A literal dollar sign is written as the escape character
  followed by ``$`` (``\\$`` by default), just as in a Dockerfile; any other
  escape character is a literal one. The renderer quotes values when needed.

Heredocs (``RUN <<EOF``) are not supported: the parser rejects them and the
builder refuses commands that BuildKit would read as one.


The package, one job a module:

* ``_words``: Go whitespace, word splitting, quoting, flags, JSON arrays.
* ``_durations``: Go duration strings (:func:`parse_duration_ns`).
* ``_checks``: the converters and checks the instructions run.
* ``_instructions``: the instruction classes; each renders its line, and its
  ``_options`` table lists the flags it keeps in attributes.
* ``_parser``: text to instructions, one table mapping each keyword to its
  class and argument reader.
* ``_document``: :class:`Dockerfile` (builder methods, ``str()``) and
  :func:`parse_for_build`.
"""

# Internal names the rest of pydock uses, importable from here but not in __all__:
# the two refusals (see _checks) and the duration parser builds share.
from pydock._core.dockerfile._checks import _Refused as _Refused
from pydock._core.dockerfile._checks import _RefusedParse as _RefusedParse
from pydock._core.dockerfile._document import Dockerfile, parse_for_build
from pydock._core.dockerfile._durations import parse_duration_ns as parse_duration_ns
from pydock._core.dockerfile._instructions import (
    Add,
    Arg,
    Cmd,
    Comment,
    Copy,
    Entrypoint,
    Env,
    Expose,
    From,
    Healthcheck,
    Instruction,
    Label,
    Maintainer,
    Onbuild,
    Run,
    Shell,
    Stopsignal,
    User,
    Volume,
    Workdir,
)
from pydock.errors import DockerfileParseError

__all__ = [
    "Add",
    "Arg",
    "Cmd",
    "Comment",
    "Copy",
    "Dockerfile",
    "DockerfileParseError",
    "Entrypoint",
    "Env",
    "Expose",
    "From",
    "Healthcheck",
    "Instruction",
    "Label",
    "Maintainer",
    "Onbuild",
    "Run",
    "Shell",
    "Stopsignal",
    "User",
    "Volume",
    "Workdir",
    "parse_for_build",
]
