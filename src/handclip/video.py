"""Writing overlay videos: H.264 (yuv420p, plays in browsers) through PyAV when installed, else OpenCV's mp4v.

PyAV is the optional extra `pip install 'handclip[video]'`; without it OpenCV writes MPEG-4 part 2
(mp4v), which most browsers do not play, and `note` says so.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

MP4V_NOTE = "PyAV is not installed: the video is mp4v, which most browsers do not play; pip install 'handclip[video]' for H.264"


class VideoWriter:
    """Frames (uint8 RGB, all one size) in, an .mp4 out; `codec` says which encoder wrote it."""

    def __init__(self, path, fps: float, size: tuple[int, int]):
        self.path, (width, height) = Path(path), size
        try:
            import av
        except ImportError:
            av = None
        if av is None:
            import cv2

            self.codec, self.note = "mp4v", MP4V_NOTE
            self._cv2 = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
            return
        self.codec, self.note = "h264", ""
        self._container = av.open(str(self.path), "w")
        self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self._stream.width, self._stream.height = width + width % 2, height + height % 2  # yuv420p: even sizes
        self._stream.pix_fmt = "yuv420p"
        self._frame = av.VideoFrame

    def write(self, rgb: np.ndarray) -> None:
        """Append one RGB frame."""
        if self.codec == "mp4v":
            import cv2

            self._cv2.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
            return
        h, w = rgb.shape[:2]
        rgb = np.pad(rgb, ((0, self._stream.height - h), (0, self._stream.width - w), (0, 0)), mode="edge")
        for packet in self._stream.encode(self._frame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self.codec == "mp4v":
            self._cv2.release()
            return
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()
