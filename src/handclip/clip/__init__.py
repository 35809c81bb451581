"""CLIP pieces: frozen towers, the offline tokenizer, prompt generators and cached text features."""
