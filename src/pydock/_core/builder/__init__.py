"""Daemonless image assembly: deterministic layers, image configs, manifests, Dockerfile plans.

The decisions behind :class:`pydock.ImageBuilder` live here, with no network
I/O, one job a module:

* :mod:`.tar` - :class:`LayerEntry` lists and :func:`iter_layer`: a layer's
  tar stream, reproducible (entries sorted by path, fixed timestamps, chosen
  owners and modes, no user or group names, PAX headers only where ustar
  cannot say it), and the members of local archives ``ADD`` extracts.
* :mod:`.compression` - :class:`GzipStream`: gzip with a fixed header (mtime
  0, no file name, OS "unknown"), so the same tar always compresses to the
  same bytes.
* :mod:`.words` - :func:`expand_word`: ``$name`` substitution and quoting.
* :mod:`.image` - :class:`ImageState`: the image config as build steps change
  it (ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, history,
  diff IDs).
* :mod:`.manifest` - media types and the manifest that lists a config and its
  layers (:func:`image_manifest`); :class:`LayerBlob` and :class:`BuildResult`.
* :mod:`.plan` - :class:`ImagePlan`: the immutable, fluent description of an
  image to build, a base and ordered steps.
* :mod:`.files` - local files and folders walked into layer entries.
* :mod:`.context` - a Dockerfile ``COPY``/``ADD`` from a build context.
* :mod:`.translate` - :func:`dockerfile_plan` turns a :class:`~pydock.Dockerfile`
  without ``RUN`` into a plan's base and steps.

Like :mod:`pydock._core.archive`, planning a layer reads the local files it
copies (their metadata, and their bytes while the tar streams) with plain
blocking calls; the I/O layer runs that in a worker thread.
"""

from __future__ import annotations

from pydock._core.builder.compression import GZIP_BLOCK, GzipStream, deflate_block
from pydock._core.builder.context import ContextFiles as ContextFiles
from pydock._core.builder.context import plan_context_copy as plan_context_copy
from pydock._core.builder.files import plan_files as plan_files
from pydock._core.builder.image import DEFAULT_SHELL as DEFAULT_SHELL
from pydock._core.builder.image import ImageState
from pydock._core.builder.manifest import (
    DOCKER_CONFIG_TYPE,
    DOCKER_LAYER_GZIP,
    OCI_CONFIG_TYPE,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    BuildResult,
    LayerBlob,
    image_manifest,
)
from pydock._core.builder.manifest import ManifestFormat as ManifestFormat
from pydock._core.builder.manifest import choose_manifest_type as choose_manifest_type
from pydock._core.builder.manifest import config_media_type as config_media_type
from pydock._core.builder.manifest import convert_descriptor as convert_descriptor
from pydock._core.builder.manifest import layer_media_type as layer_media_type
from pydock._core.builder.plan import ArchiveStep as ArchiveStep
from pydock._core.builder.plan import ConfigStep as ConfigStep
from pydock._core.builder.plan import ContextCopyStep as ContextCopyStep
from pydock._core.builder.plan import FilesStep as FilesStep
from pydock._core.builder.plan import ImagePlan, LayerOptions
from pydock._core.builder.plan import Step as Step
from pydock._core.builder.tar import LayerEntry, iter_layer, iter_layer_tar, normalize_entries
from pydock._core.builder.tar import is_archive as is_archive
from pydock._core.builder.tar import iter_archive_members as iter_archive_members
from pydock._core.builder.tar import tar_header as tar_header
from pydock._core.builder.translate import DOCKERFILE_COMMENT as DOCKERFILE_COMMENT
from pydock._core.builder.translate import dockerfile_plan
from pydock._core.builder.words import expand_word
from pydock.errors import UnsupportedInstruction

__all__ = [
    "DOCKER_CONFIG_TYPE",
    "DOCKER_LAYER_GZIP",
    "OCI_CONFIG_TYPE",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "BuildResult",
    "GZIP_BLOCK",
    "GzipStream",
    "ImagePlan",
    "ImageState",
    "LayerBlob",
    "LayerEntry",
    "LayerOptions",
    "UnsupportedInstruction",
    "deflate_block",
    "dockerfile_plan",
    "expand_word",
    "image_manifest",
    "iter_layer",
    "iter_layer_tar",
    "normalize_entries",
]
