"""Predict 3D hand joints for an image, a folder of images or a video; writes JSON and overlay PNGs."""

from __future__ import annotations

import argparse
import json
import math
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
    parser.add_argument("--box", type=parse_box, help="hand box x,y,w,h in pixels (default: the whole image)")
    parser.add_argument("--left", action="store_true", help="the hand is a left hand (mirrored in and back out)")
    parser.add_argument("--out", type=Path, default=Path("predictions"), help="output folder (default: predictions)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-frames", type=int, default=0, help="video: stop after this many frames (0: all)")
    parser.add_argument("--boxes", type=Path, metavar="FILE",
                        help="images: hand boxes from a COCO file (images[].file_name matched by base name, annotations[]"
                        " with bbox and optional hand_side, score); each JSON then lists 'hands' (none for an image without boxes)")
    parser.add_argument("--format", choices=("json", "coco"), default="json",
                        help="coco: also write coco_keypoints.json, COCO keypoint results of every hand (images)")
    parser.add_argument("--save-mesh", nargs="?", const="obj", choices=("obj", "ply", "glb"), metavar="FORMAT",
                        help="write each predicted mesh as <stem>.obj (default), .ply or .glb (those two need trimesh)")


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


def predict_images(predictor, files: list[Path], box, left: bool, out: Path, boxes: Path | None = None,
                   coco: bool = False, mesh_format: str | None = None) -> list[Path]:
    """Predict each image; write <stem>.json and <stem>.png (overlay + 3D view) into `out`, and with
    `boxes` one hand per box (<stem>_hand<k>.png when several), <stem>.<mesh_format> meshes, COCO results."""
    from tqdm import tqdm

    from handclip.api import read_image, to_json
    from handclip.coco_io import keypoint_result, load_boxes, write_results
    from handclip.errors import UserError, one_line
    from handclip.mesh.files import save_mesh
    from handclip.viz import save_prediction_png

    side = "left" if left else "right"
    boxes_of = None if boxes is None else load_boxes(boxes, side)
    written, results_coco, absent, meshless = [], [], [], False
    stems, failed = output_stems(files), []
    for index, path in enumerate(tqdm(files, desc="predict", unit="image", disable=len(files) < 2)):
        entry = None if boxes_of is None else boxes_of.get(path.name)
        if boxes_of is None:
            hands = [{"box": box, "side": side, "score": 1.0}]
        else:
            hands = entry["hands"] if entry else []
            absent += [] if entry else [path.name]
        try:  # a file that cannot be read or a box that does not fit it: skipped, the others go on
            image = read_image(path)
            results = predictor.predict([image] * len(hands), boxes=[h["box"] for h in hands],
                                        left=[h["side"] == "left" for h in hands]) if hands else []
        except (UserError, OSError, ValueError) as err:
            if len(files) == 1:
                raise
            failed.append(path)
            tqdm.write(f"handclip predict: skipped {path}: {one_line(err)}", file=sys.stderr)
            continue
        json_path = out / f"{stems[path]}.json"
        if boxes_of is None:
            json_path.write_text(json.dumps({"image": str(path), **to_json(results[0])}))
        else:
            record = {"image": str(path), "hands": [{**to_json(r), "score": h["score"]} for r, h in zip(results, hands)]}
            json_path.write_text(json.dumps(record if entry else {**record, "note": f"no entry in {boxes}"}))
        written.append(json_path)
        for k, (result, hand) in enumerate(zip(results, hands)):
            stem = stems[path] if len(results) == 1 else f"{stems[path]}_hand{k}"
            faces = _faces(predictor, result)
            written.append(save_prediction_png(out / f"{stem}.png", image, result, faces, path.name))
            if mesh_format and "verts" in result:
                written.append(save_mesh(out / f"{stem}.{mesh_format}", result["verts"], faces))
            meshless |= bool(mesh_format) and "verts" not in result
            if coco:
                results_coco.append(keypoint_result(entry["image_id"] if entry else index + 1, result, hand["score"]))
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


def predict_video(predictor, path: Path, box, left: bool, out: Path, batch_size: int, max_frames: int) -> list[Path]:
    """Predict every frame; write <stem>.jsonl (one JSON line per frame), <stem>_overlay.mp4 (H.264 with PyAV,
    else mp4v) and <stem>.png (first frame)."""
    import cv2
    from tqdm import tqdm

    from handclip.api import to_json
    from handclip.video import VideoWriter
    from handclip.viz import save_prediction_png
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
            results = predictor.predict(chunk, boxes=box, left=left)
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
    png = save_prediction_png(out / f"{path.stem}.png", rgb, result, faces, f"{path.name} frame 0")
    return [json_path, video_path, png]


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
    if args.save_mesh in ("ply", "glb") and importlib.util.find_spec("trimesh") is None:
        return f"--save-mesh {args.save_mesh} needs trimesh (pip install trimesh); --save-mesh obj needs nothing"
    return None


def run(args: argparse.Namespace) -> int:
    import handclip
    from handclip import preflight

    source: Path = args.input
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder; give an image, a folder of images or a video")
    problem = _check_outputs(args, video=source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES)
    if problem:
        print(f"handclip predict: {problem}", file=sys.stderr)
        return 1
    preflight.out_folder(args.out)
    preflight.at_least(args.batch_size, 1, "--batch-size")
    preflight.at_least(args.max_frames, 0, "--max-frames")
    preflight.device(args.device)
    files = _images_in(source) if source.is_dir() else [source]
    predictor = handclip.load(args.checkpoint, device=args.device, batch_size=args.batch_size)
    args.out.mkdir(parents=True, exist_ok=True)
    options = {"boxes": args.boxes, "coco": args.format == "coco", "mesh_format": args.save_mesh}
    if source.is_dir():
        written = predict_images(predictor, files, args.box, args.left, args.out, **options)
    elif source.suffix.lower() in VIDEO_SUFFIXES:
        written = predict_video(predictor, source, args.box, args.left, args.out, args.batch_size, args.max_frames)
    else:
        written = predict_images(predictor, [source], args.box, args.left, args.out, **options)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
