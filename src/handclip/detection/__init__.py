"""Hand detection on whole photos: a CenterNet-style single-shot detector's geometry and its runtime.

    letterbox   photo <-> square network input (scale, pad) and boxes between the two
    boxes       box IoU and greedy non-maximum suppression
    codec       boxes <-> centre heatmap, size, offset and side maps at the network's stride
    detector    HandDetector: photos in, every hand's box, score and side out (load_detector)

The network and its training step are handclip.models.hand_detector and handclip.methods.hand_detector.
"""
