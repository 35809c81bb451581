"""Predict 3D hand joints for an image, a folder of images or a video; writes JSON and overlay PNGs."""

from __future__ import annotations

import argparse
import json
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
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0:
        raise argparse.ArgumentTypeError(f"--box must be x,y,w,h with positive w and h, got {text!r}")
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


def _images_in(folder: Path) -> list[Path]:
    """Image files directly inside `folder`, sorted by name."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{folder}: no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def predict_images(predictor, files: list[Path], box, left: bool, out: Path) -> list[Path]:
    """Predict each image; write <stem>.json and <stem>.png (overlay + 3D view) into `out`."""
    from tqdm import tqdm

    from handclip.api import read_image, to_json
    from handclip.viz import save_prediction_png

    written = []
    for path in tqdm(files, desc="predict", unit="image", disable=len(files) < 2):
        image = read_image(path)
        result = predictor.predict(image, boxes=box, left=left)[0]
        json_path = out / f"{path.stem}.json"
        json_path.write_text(json.dumps({"image": str(path), **to_json(result)}))
        faces = predictor.faces(len(result["verts"])) if "verts" in result else None
        written += [json_path, save_prediction_png(out / f"{path.stem}.png", image, result, faces, path.name)]
    return written


def predict_video(predictor, path: Path, box, left: bool, out: Path, batch_size: int, max_frames: int) -> list[Path]:
    """Predict every frame; write <stem>.json (all frames), <stem>_overlay.mp4 and <stem>.png (first frame)."""
    import cv2
    from tqdm import tqdm

    from handclip.api import to_json
    from handclip.viz import draw_skeleton, save_prediction_png

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"{path}: OpenCV cannot open this video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    total = min(total, max_frames) if (total and max_frames) else (total or max_frames or None)
    video_path, writer, frames, first = out / f"{path.stem}_overlay.mp4", None, [], None
    with tqdm(total=total, desc="predict", unit="frame") as bar:
        while not max_frames or len(frames) < max_frames:
            chunk = []
            while len(chunk) < batch_size and (not max_frames or len(frames) + len(chunk) < max_frames):
                ok, bgr = cap.read()
                if not ok:
                    break
                chunk.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if not chunk:
                break
            results = predictor.predict(chunk, boxes=box, left=left)
            for rgb, result in zip(chunk, results):
                if writer is None:
                    first = (rgb, result)
                    writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), fps, rgb.shape[1::-1])
                writer.write(cv2.cvtColor(draw_skeleton(rgb, result["uv"]), cv2.COLOR_RGB2BGR))
                frames.append(to_json(result))
            bar.update(len(chunk))
    cap.release()
    if writer is None:
        raise ValueError(f"{path}: no frame could be read")
    writer.release()
    json_path = out / f"{path.stem}.json"
    json_path.write_text(json.dumps({"video": str(path), "fps": fps, "frames": frames}))
    rgb, result = first
    faces = predictor.faces(len(result["verts"])) if "verts" in result else None
    png = save_prediction_png(out / f"{path.stem}.png", rgb, result, faces, f"{path.name} frame 0")
    return [json_path, video_path, png]


def run(args: argparse.Namespace) -> int:
    import handclip

    source: Path = args.input
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    predictor = handclip.load(args.checkpoint, device=args.device, batch_size=args.batch_size)
    args.out.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        written = predict_images(predictor, _images_in(source), args.box, args.left, args.out)
    elif source.suffix.lower() in VIDEO_SUFFIXES:
        written = predict_video(predictor, source, args.box, args.left, args.out, args.batch_size, args.max_frames)
    else:
        written = predict_images(predictor, [source], args.box, args.left, args.out)
    print(f"wrote {len(written)} files to {args.out}")
    return 0
