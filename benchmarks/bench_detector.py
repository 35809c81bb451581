"""Hand detection plus pose on 640x480 photos: images/s of the detector alone and of Predictor.hands (JPEG
decoding, letterbox, detection, NMS, crops, pose network, mapping back), at 1 and 2 threads.

Weights are random unless given (speed does not depend on them); the detector is made to return exactly
`--hands` hands per image (min_score 0), so the pose network runs as often as on photos with that many
hands. Photos: ../shared/realdev/hxp3d (640x480 JPEGs) when present, else rendered 640x480 full frames.
The machine's load average is recorded: numbers taken while other jobs run are lower bounds.

    python benchmarks/bench_detector.py --out benchmarks/results/detector.json
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch
from _output import emit
from PIL import Image

from handclip.api import Predictor
from handclip.detection.detector import HandDetector, load_detector
from handclip.engine.checkpoint import build_method
from handclip.engine.config import load_config
from handclip.timing import images_per_second

REALDEV = Path(os.environ.get("HANDCLIP_REALDEV", Path(__file__).resolve().parents[2] / "shared" / "realdev"))


def photos(count: int, folder: Path) -> tuple[list[Path], str]:
    """`count` 640x480 JPEG files: hxp3d frames, else full-frame renders written into `folder`."""
    real = sorted((REALDEV / "hxp3d" / "images").glob("*.jpg"))[:count]
    if len(real) == count:
        return real, "realdev/hxp3d"
    from handclip.data import build_dataset

    frames = build_dataset("synth_full", domain="webcam", n=count, width=640, seed=3)
    paths = []
    for i in range(count):
        paths.append(folder / f"{i}.jpg")
        Image.fromarray(frames[i]["image"]).save(paths[-1], quality=90)
    return paths, "synth_full webcam renders"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pose-config", default="dg_clip/cpu", help="config of the pose model (random weights)")
    parser.add_argument("--detector", help="a trained detector (default: detector/cpu with random weights)")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--hands", type=int, default=1, help="hands returned per image")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--min-seconds", type=float, default=4.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    torch.manual_seed(0)
    pose = build_method(load_config(args.pose_config)).eval()
    finder = load_detector(args.detector, device="cpu") if args.detector else \
        HandDetector(build_method(load_config("detector/cpu")).eval(), device="cpu")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        files, source = photos(args.images, Path(tmp))
        arrays = [np.asarray(Image.open(p).convert("RGB")) for p in files]
        rows = []
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            predictor = Predictor(pose, device="cpu", batch_size=args.images, detector=finder)
            detect = images_per_second(lambda: finder.detect(arrays, args.hands, 0.0), len(arrays), args.min_seconds)
            both = images_per_second(lambda: predictor.hands([str(p) for p in files], args.hands, 0.0), len(files),
                                     args.min_seconds)
            rows.append({"threads": threads, "detect_images_per_s": detect,
                         "detect_and_pose_from_jpeg_images_per_s": both})
    detector_params = sum(p.numel() for p in finder.method.parameters())
    emit({"benchmark": "hand detection + pose, 640x480", "photos": source, "images": args.images,
          "hands_per_image": args.hands, "pose_config": args.pose_config, "detector": args.detector or "detector/cpu (random)",
          "detector_params": detector_params, "detector_input": finder.size,
          "pose_params": sum(p.numel() for p in pose.inference_model().parameters()), "pose_input": int(pose.input_size),
          "target_images_per_s": 25, "load_average_before": [round(v, 2) for v in load_before],
          "load_average_after": [round(v, 2) for v in os.getloadavg()], "cpu_count": os.cpu_count(),
          "machine": platform.machine(), "torch": torch.__version__, "results": rows}, args.out)


if __name__ == "__main__":
    main()
