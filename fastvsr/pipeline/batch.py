"""Many inputs in one run: what ``--input`` names, where each output goes, and a batch that survives bad files.

What ``--input`` may be (the rule, checked in this order):

* a path with ``*``, ``?`` or ``[`` that does not exist as typed: a **glob**; every video, image and frame folder
  it matches is one input;
* a video or image file: one input;
* a folder holding **videos and/or frame folders** (sub-folders of images): each is one input (a batch); loose
  images beside them are an error, never silently a one-frame video (move them into a folder of their own, or
  pass a glob such as ``'photos/*.jpg'``);
* a folder holding only images: **one** clip, its frames in name order. To upscale unrelated photos one by one,
  pass a glob.

Other files (text, hidden entries) are ignored. In a batch each output keeps its input's name inside the output
folder (``clips/a.mp4 -> clips_x4/a.mp4``, ``clips/b/ -> clips_x4/b/``, ``x.jpg -> x.png``), so restored
benchmark sets match their ground truth by name (``scripts/evaluate.py``).
"""

from __future__ import annotations

import glob
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from torch import nn

from fastvsr.data.clips import is_frame_folder, is_video_file, list_clips, listed
from fastvsr.data.codecs import VIDEO_SUFFIXES, video_suffix
from fastvsr.data.frames import is_image_file, list_frame_files
from fastvsr.data.video import probe_video
from fastvsr.errors import FastVSRError, InputError, OutputError
from fastvsr.pipeline.config import InferConfig
from fastvsr.pipeline.files import default_output, plan_outputs, write_outputs
from fastvsr.pipeline.workers import Workers

GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class Inputs:
    """The resolved ``--input``: its clips, whether it is a batch, and the folder it named (if any)."""

    clips: list[Path]
    batch: bool
    folder: Path | None = None


def _is_input(path: Path) -> bool:
    return is_video_file(path) or (path.is_file() and is_image_file(path)) or is_frame_folder(path)


def resolve_inputs(spec: str | Path) -> Inputs:
    """Apply the module's rule to ``--input``.

    Raises:
        InputError: nothing there, a glob matching nothing, a folder mixing clips and loose images, or two
            clips of one name in a folder.
    """
    path = Path(spec)
    if not path.exists() and GLOB_CHARS & set(str(spec)):
        matches = sorted(Path(m) for m in glob.glob(str(spec)))
        clips = [m for m in matches if _is_input(m)]
        if not clips:
            raise InputError(f"no video, image or frame folder matches {spec}")
        return Inputs(clips, batch=True)
    if not path.exists():
        raise InputError(f"input {path} does not exist")
    if not path.is_dir():
        return Inputs([path], batch=False)
    subclips = list(list_clips(path).values())  # videos and frame folders
    images = list_frame_files(path)
    if subclips and images:
        raise InputError(f"{path} holds videos or frame folders and also {len(images)} loose image(s) "
                         f"({listed([i.name for i in images])}); move the images into a folder of their own, "
                         f"or pass a glob such as '{path}/*.mp4'")
    if subclips:
        return Inputs(subclips, batch=True, folder=path)
    if images:
        return Inputs([path], batch=False)
    raise InputError(f"{path} holds no video, image or frame folder")


def batch_output_name(source: Path, codec: str = "h264") -> str:
    """The output's name inside a batch's output folder: the input's (videos keep their container when it is
    writable and holds ``codec``, else the codec's default one, e.g. ``.mp4``, ``.mov`` for prores)."""
    if source.is_dir():
        return source.name
    if is_video_file(source):
        suffix = source.suffix.lower()
        return source.stem + video_suffix(codec, suffix if suffix in VIDEO_SUFFIXES else ".mp4")
    return source.stem + ".png"


def batch_targets(inputs: Inputs, output: str | Path | None, scale: int, codec: str = "h264") -> list[Path]:
    """Where each clip of a batch goes: inside ``output`` (a folder), else inside ``<folder>_x<scale>/`` for a
    folder input, else beside each input (:func:`fastvsr.pipeline.files.default_output`, for a glob).

    Raises:
        OutputError: ``output`` is a file, has a suffix, or is the input folder itself.
    """
    if output is None and inputs.folder is None:
        return [default_output(c, probe_video(c), scale, codec) for c in inputs.clips]
    folder = Path(output) if output is not None else inputs.folder.parent / f"{inputs.folder.name}_x{scale}"
    if folder.suffix or (folder.exists() and not folder.is_dir()):
        raise OutputError(f"--output {folder} must be a folder for a batch of {len(inputs.clips)} inputs")
    if inputs.folder is not None and folder.resolve() == inputs.folder.resolve():
        raise OutputError(f"--output {folder} is the input folder; outputs keep their inputs' names, so choose "
                          "another folder")
    names = [batch_output_name(c, codec) for c in inputs.clips]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise OutputError(f"two inputs would both write {folder / clash[0]}; rename one or run them apart")
    return [folder / name for name in names]


@dataclass
class BatchResult:
    """What a batch did, over every process."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "<input>: <error>"

    def merge(self, other: BatchResult) -> None:
        self.written += other.written
        self.skipped += other.skipped
        self.failed += other.failed

    def summary(self) -> str:
        return f"{len(self.written)} written, {len(self.skipped)} skipped, {len(self.failed)} failed"


def run_batch(clips: list[Path], targets: list[Path], model: nn.Module, cfg: InferConfig, workers: Workers,
              compare: bool = False, overwrite: bool = False, skip_existing: bool = False, progress: bool = True,
              say: Callable[[str], None] = print) -> BatchResult:
    """Restore ``clips[i]`` into ``targets[i]``; this process takes every ``workers.count``-th clip from its
    index. A clip whose output exists is skipped with ``skip_existing``; a clip that fails (bad file, existing
    output without ``overwrite``) is reported on stderr and the batch goes on. Every process gets the merged
    result."""
    mine = BatchResult()
    total = len(clips)
    for k in range(workers.index, total, workers.count):
        source, target = clips[k], targets[k]
        tag = f"[{k + 1}/{total}] {source}"
        if skip_existing and (target.exists() or target.is_symlink()):
            mine.skipped.append(str(source))
            say(f"{tag}: skipped, {target} exists")
            continue
        started = time.perf_counter()
        try:
            plan = plan_outputs(source, target, cfg, compare, overwrite)
            written = write_outputs(plan, model, cfg, overwrite, progress)
        except FastVSRError as err:
            mine.failed.append(f"{source}: {err}")
            print(f"{tag}: error: {err}", file=sys.stderr)
            continue
        seconds = time.perf_counter() - started
        mine.written.append(str(written[0]))
        say(f"{tag} -> {written[0]} ({plan.info.num_frames} frames, {seconds:.1f} s, "
            f"{plan.info.num_frames / seconds:.2f} frames/s)")
    result = BatchResult()
    for part in workers.gather(mine):
        result.merge(part)
    return result
