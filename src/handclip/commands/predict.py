"""Predict 3D hand joints for an image, a folder of images or a video; writes JSON and overlay PNGs."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import Counter
from pathlib import Path

HELP = "predict 3D hand joints (and mesh) for IMAGE|DIR|VIDEO with a model; writes JSON + overlay PNGs"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v"}


def parse_box(text: str) -> tuple[float, float, float, float]:
    """'x,y,w,h' (pixels) -> a 4-tuple of floats."""
    try:
        box = tuple(float(v) for v in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or not all(math.isfinite(v) for v in box) or box[2] <= 0 or box[3] <= 0:
        raise argparse.ArgumentTypeError(f"expected x,y,w,h in pixels (finite numbers, positive w and h), got {text!r}")
    return box


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="an image, a folder of images, or a video file")
    parser.add_argument("--checkpoint", help="a checkpoint .pt written by `handclip train`, a packed .safetensors model "
                        "or a shipped model's name (`handclip models`); default: the default shipped model")
    parser.add_argument("--box", type=parse_box, help="hand box x,y,w,h in pixels (default: the hands the detector "
                        "finds, else the whole image)")
    parser.add_argument("--left", action="store_true", help="the hand is a left hand (mirrored in and back out); "
                        "with --box or --detector none")
    parser.add_argument("--detector", metavar="NAME|PATH|none",
                        help="images without --box/--boxes: the hand detector finding every hand's box and side (a "
                        "shipped name, a .pt or .safetensors; default: the shipped one, else the whole image is one "
                        "hand; a pose model trained on both hands, as the default, names the side from its skeleton "
                        "instead); none: the whole image")
    parser.add_argument("--upright-look", action=argparse.BooleanOptionalAction, default=False,
                        help="also read every hand turned upright (wrist below the middle knuckle, from the first "
                        "skeleton) and keep the look the model is surer of: better on tilted hands, twice the pose "
                        "network's time (handclip.refine)")
    parser.add_argument("--look-around", action=argparse.BooleanOptionalAction, default=False,
                        help="read every hand upright, turned 15 degrees either way and zoomed in and out, and blend "
                        "the five looks joint by joint by the model's confidence: the best 2D on renders and photos, "
                        "six times the pose network's time; a model that reads either hand (the default) also reads the mirrored "
                        "crop's five looks: eleven times (handclip.refine)")
    parser.add_argument("--second-look", action=argparse.BooleanOptionalAction, default=True,
                        help="with the shipped hand check and one look, read a box the check is unsure of again, "
                        "mirrored and turned upright, and keep it where the two looks blended are sure enough (the "
                        "model's min_confidence_second_look; handclip.refine.SecondLook)")
    parser.add_argument("--max-hands", type=int, default=2, help="detector: at most this many hands per image (2)")
    parser.add_argument("--min-score", type=float, default=0.3, help="detector: keep hands scoring at least this (0.3)")
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="the hand check: drop a detected box whose pose has a lower mean joint confidence "
                        "(default: the shipped model's calibrated value, 0 for files; 0 keeps every box)")
    parser.add_argument("--out", type=Path, default=Path("predictions"), help="output folder (default: predictions)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace outputs an earlier run left in --out for the same inputs (refused otherwise)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--batch-size", type=int, default=8,
                        help="images (hands) per forward pass (default 8: on CPU 10-30 %% less time per image than 16, "
                        "whose larger activations are mapped afresh each batch)")
    parser.add_argument("--max-frames", type=int, default=0, help="video: stop after this many frames (0: all)")
    parser.add_argument("--boxes", type=Path, metavar="FILE",
                        help="images: hand boxes from a COCO file (images[].file_name matched by base name, annotations[]"
                        " with bbox and optional hand_side, score); each JSON then lists 'hands' (none for an image without boxes)")
    parser.add_argument("--format", choices=("json", "coco"), default="json",
                        help="coco: also write coco_keypoints.json, COCO keypoint results of every hand (images)")
    parser.add_argument("--save-mesh", nargs="?", const="obj", choices=("obj", "ply", "glb"), metavar="FORMAT",
                        help="write each predicted mesh as <stem>.obj (default), .ply or .glb (those two need trimesh)")
    parser.add_argument("--view3d", action="store_true",
                        help="also write view3d/<stem>.png, the overlay beside a matplotlib 3D view of the joints (and "
                        "mesh); slow (about 0.2 s of CPU an image against 2 ms for the overlay), so off by default")
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch threads for the network (default: the CPU cores less one, at least 1; the "
                        "reader and writer threads use the rest)")


def _images_in(folder: Path) -> list[Path]:
    """Image files directly inside `folder`, sorted by name."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))}); give a folder of "
                                f"images, an image or a video")
    return files


def output_stems(files: list[Path]) -> dict[Path, str]:
    """Each file's output name stem: its stem, or stem_ext (hand_jpg, hand_png) when files share a stem,
    with _2, _3 ... added while a name is still taken: no output overwrites another's."""
    shared = Counter(p.stem for p in files)
    taken: set[str] = set()
    stems = {}
    for path in files:
        stem = path.stem if shared[path.stem] == 1 else f"{path.stem}_{path.suffix.lstrip('.').lower()}"
        name, k = stem, 1
        while name in taken:
            k += 1
            name = f"{stem}_{k}"
        taken.add(name)
        stems[path] = name
    return stems


def _faces(predictor, result: dict):
    """The triangles of a result's mesh (None without verts), wound for its side: mirroring turns them over."""
    faces = predictor.faces(len(result["verts"])) if "verts" in result else None
    return faces[:, ::-1] if faces is not None and result["side"] == "left" else faces


VIEW3D = "view3d"  # the folder of the matplotlib 3D views (--view3d)


def _write_outputs(predictor, item, record: dict, out: Path, stem: str, mesh_format: str | None,
                   view3d: bool) -> list[Path]:
    """One image's files (run in the writer thread): <stem>.json, the OpenCV overlay <stem>.png of every hand
    (none without a hand), then per hand its mesh file <stem>[_hand<k>].<format> and, on request,
    view3d/<stem>[_hand<k>].png (overlay beside the 3D view)."""
    from handclip.mesh.files import save_mesh
    from handclip.viz import save_overlay_png, save_prediction_png

    json_path = out / f"{stem}.json"
    json_path.write_text(json.dumps(record))
    written = [json_path]
    hands = [(result, _faces(predictor, result)) for result in item.results]
    if hands:
        written.append(save_overlay_png(out / f"{stem}.png", item.image, hands))
    for k, (result, faces) in enumerate(hands):
        name = stem if len(item.results) == 1 else f"{stem}_hand{k}"
        if view3d:
            written.append(save_prediction_png(out / VIEW3D / f"{name}.png", item.image, result, faces, item.path.name))
        if mesh_format and "verts" in result:
            written.append(save_mesh(out / f"{name}.{mesh_format}", result["verts"], faces))
    return written


def predict_images(predictor, files: list[Path], box, left: bool, out: Path, boxes: Path | None = None,
                   coco: bool = False, mesh_format: str | None = None, detect: dict | None = None,
                   view3d: bool = False) -> list[Path]:
    """Predict each image; write <stem>.json and the overlay <stem>.png of its hands into `out`, and with `boxes`
    one hand per box, <stem>[_hand<k>].<mesh_format> meshes, COCO results, view3d/ 3D views.
    detect: {'max_hands', 'min_score'} to find the hands with the predictor's detector (JSON 'hands' as for boxes).
    Files are read ahead and outputs written in two worker threads while the model predicts batches of hands
    across images (handclip.predict_stream)."""
    from tqdm import tqdm

    from handclip.api import to_json
    from handclip.coco_io import keypoint_result, load_boxes, write_results
    from handclip.predict_stream import predict_stream
    from handclip.errors import UserError, one_line
    from handclip.prefetch import ordered_map

    side = "left" if left else None  # not known: a right hand, unless the model names the side from its skeleton
    boxes_of = None if boxes is None else load_boxes(boxes, side)
    entries = {path: None if boxes_of is None else boxes_of.get(path.name) for path in files}
    absent = [path.name for path in files if boxes_of is not None and entries[path] is None]
    stems = output_stems(files)

    def hands_of(path: Path) -> list[dict] | None:
        if detect is not None:
            return None
        if boxes_of is None:
            return [{"box": box, "side": side, "score": 1.0}]
        return entries[path]["hands"] if entries[path] else []

    def record(item) -> dict:
        if boxes_of is None and detect is None:
            return {"image": str(item.path), **to_json(item.results[0])}
        hands = [{**to_json(r), "score": h["score"]} for r, h in zip(item.results, item.hands)]
        listed = {"image": str(item.path), "hands": hands}
        return listed if entries[item.path] or detect else {**listed, "note": f"no entry in {boxes}"}

    def write(item):
        if item.error is not None:
            return item, []
        return item, _write_outputs(predictor, item, record(item), out, stems[item.path], mesh_format, view3d)

    written, results_coco, meshless, failed = [], [], False, []
    done = ordered_map(write, predict_stream(predictor, files, hands_of, detect), ahead=predictor.batch_size)
    for index, (item, paths) in enumerate(tqdm(done, total=len(files), desc="predict", unit="image",
                                               disable=len(files) < 2)):
        if item.error is not None:  # a file that cannot be read or a box that does not fit it: skipped
            if len(files) == 1:
                raise item.error
            failed.append(item.path)
            tqdm.write(f"handclip predict: skipped {item.path}: {one_line(item.error)}", file=sys.stderr)
            continue
        written += paths
        meshless |= bool(mesh_format) and any("verts" not in result for result in item.results)
        if coco:
            entry = entries[item.path]
            results_coco += [keypoint_result(entry["image_id"] if entry else index + 1, result, hand["score"])
                             for result, hand in zip(item.results, item.hands)]
    if coco:
        written.append(write_results(out / "coco_keypoints.json", results_coco))
    if absent:
        more = f" and {len(absent) - 5} more" if len(absent) > 5 else ""
        print(f"note: {len(absent)} image(s) have no entry in {boxes}: {', '.join(absent[:5])}{more}; their JSON lists no hands")
    if meshless:
        print("note: --save-mesh: this model predicts joints only, no mesh; no mesh file written")
    if failed:
        raise UserError(f"{len(failed)} of {len(files)} images could not be predicted (named above) and were skipped; "
                        f"the outputs of the other {len(files) - len(failed)} are in {out}")
    return written


def predict_video(predictor, path: Path, box, left: bool, out: Path, batch_size: int, max_frames: int,
                  view3d: bool = False) -> list[Path]:
    """Predict every frame; write <stem>.jsonl (one JSON line per frame), <stem>_overlay.mp4 (H.264 with PyAV,
    else mp4v), <stem>.png (the first frame's overlay) and with view3d view3d/<stem>.png (its 3D view)."""
    import cv2
    from tqdm import tqdm

    from handclip.api import to_json
    from handclip.video import VideoWriter
    from handclip.viz import save_overlay_png, save_prediction_png
    from handclip.viz.mesh_overlay import draw_overlay

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    total = min(total, max_frames) if (total and max_frames) else (total or max_frames or None)
    video_path, json_path = out / f"{path.stem}_overlay.mp4", out / f"{path.stem}.jsonl"
    writer, count, first, faces = None, 0, None, None
    with tqdm(total=total, desc="predict", unit="frame") as bar, open(json_path, "w", encoding="utf-8") as lines:
        while not max_frames or count < max_frames:
            chunk = []
            while len(chunk) < batch_size and (not max_frames or count + len(chunk) < max_frames):
                ok, bgr = cap.read()
                if not ok:
                    break
                chunk.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if not chunk:
                break
            results = predictor.predict(chunk, boxes=box, left=left or None)
            for rgb, result in zip(chunk, results):
                if writer is None:
                    first, faces = (rgb, result), _faces(predictor, result)
                    writer = VideoWriter(video_path, fps, rgb.shape[1::-1])
                writer.write(draw_overlay(rgb, result, faces))
                lines.write(json.dumps({"frame": count, "time_s": round(count / fps, 4), **to_json(result)}) + "\n")
                count += 1
            bar.update(len(chunk))
    cap.release()
    if writer is None:
        json_path.unlink()
        raise ValueError(f"{path}: no frame could be read")
    writer.close()
    if writer.note:
        print(f"note: {writer.note}")
    rgb, result = first
    pngs = [save_overlay_png(out / f"{path.stem}.png", rgb, [(result, faces)])]
    if view3d:
        pngs.append(save_prediction_png(out / VIEW3D / f"{path.stem}.png", rgb, result, faces, f"{path.name} frame 0"))
    return [json_path, video_path, *pngs]


def _check_outputs(args: argparse.Namespace, video: bool) -> str | None:
    """Why the output options cannot be honoured (options for images given a video, a missing file or
    package), else None."""
    import importlib.util

    if video and (args.boxes or args.format == "coco" or args.save_mesh):
        return "--boxes, --format coco and --save-mesh apply to images, not to a video"
    if args.boxes and args.box:
        return "give --box or --boxes, not both"
    if args.boxes and not args.boxes.is_file():
        return f"--boxes: no such file {args.boxes}"
    if args.detector not in (None, "none") and (args.box or args.boxes or video):
        return "--detector finds the hands of images without --box or --boxes; give one or the other"
    if args.max_hands < 1 or not 0.0 <= args.min_score <= 1.0:
        return f"--max-hands must be >= 1 and --min-score in [0, 1], got {args.max_hands} and {args.min_score}"
    if args.min_confidence is not None and not 0.0 <= args.min_confidence <= 1.0:
        return f"--min-confidence must be in [0, 1], got {args.min_confidence}"
    if args.save_mesh in ("ply", "glb") and importlib.util.find_spec("trimesh") is None:
        return f"--save-mesh {args.save_mesh} needs trimesh (pip install trimesh); --save-mesh obj needs nothing"
    return None


def earlier_outputs(files: list[Path], out: Path, video: bool, coco: bool) -> list[Path]:
    """Outputs of an earlier run in `out` that this run would replace: each input's JSON (JSON lines for a
    video), and the COCO results file with --format coco."""
    if video:
        names = [f"{files[0].stem}.jsonl"]
    else:
        names = [f"{stem}.json" for stem in output_stems(files).values()] + (["coco_keypoints.json"] if coco else [])
    return [out / name for name in names if (out / name).exists()]


def default_threads() -> int:
    """PyTorch threads for predict: one core is left to the reader and writer threads (at least one thread).
    On the busy 2-core machine (load 7) 2 threads took 30x the CPU time of 1 at batch 1, spinning on each other."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores - 1)


def run(args: argparse.Namespace) -> int:
    import torch

    import handclip
    from handclip import preflight
    from handclip.memory import keep_freed_memory

    source: Path = args.input
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder; give an image, a folder of images or a video")
    video = source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES
    problem = _check_outputs(args, video=video)
    if problem:
        print(f"handclip predict: {problem}", file=sys.stderr)
        return 1
    preflight.out_folder(args.out)
    preflight.at_least(args.batch_size, 1, "--batch-size")
    preflight.at_least(args.max_frames, 0, "--max-frames")
    preflight.device(args.device)
    threads = default_threads() if args.threads is None else args.threads
    preflight.at_least(threads, 1, "--threads")
    files = _images_in(source) if source.is_dir() else [source]
    held = [] if args.overwrite else earlier_outputs(files, args.out, video, args.format == "coco")
    if held:
        from handclip.errors import UserError

        raise UserError(f"{args.out}: holds outputs of an earlier run for these inputs ({len(held)}, e.g. "
                        f"{held[0].name}); pass --overwrite to replace them or choose another --out")
    finder = None if args.box or args.boxes or video or args.detector == "none" else args.detector or "auto"
    predictor = handclip.load(args.checkpoint, device=args.device, batch_size=args.batch_size, detector=finder,
                              upright_look=args.upright_look, look_around=args.look_around,
                              min_confidence="auto" if args.min_confidence is None else args.min_confidence,
                              second_look=args.second_look)
    if predictor.detector is not None and args.left:
        print("handclip predict: --left goes with --box (or --detector none, the whole image); the detector finds "
              "each hand's side", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(threads)
    keep_freed_memory()  # batches reuse the pages of the last one (handclip.memory)
    detect = None if predictor.detector is None else {"max_hands": args.max_hands, "min_score": args.min_score}
    options = {"boxes": args.boxes, "coco": args.format == "coco", "mesh_format": args.save_mesh, "detect": detect,
               "view3d": args.view3d}
    if source.is_dir():
        written = predict_images(predictor, files, args.box, args.left, args.out, **options)
    elif video:
        written = predict_video(predictor, source, args.box, args.left, args.out, args.batch_size, args.max_frames,
                                args.view3d)
    else:
        written = predict_images(predictor, [source], args.box, args.left, args.out, **options)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
