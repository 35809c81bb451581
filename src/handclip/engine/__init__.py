"""Training engine shared by every method: configs, checkpoints, the train loop, validation, DDP."""
