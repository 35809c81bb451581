"""`handclip dg-clip-figures`: DG-CLIP's CLIP-feature figures, each as PNG next to JSON: t-SNE of several
domains' f^CI vs the text-augmented source features (paper Fig. 3) and the source images nearest to one
image+prompt feature (paper Fig. 4)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from handclip.errors import UserError, require_extra

HELP = "DG-CLIP figures: t-SNE of domains vs text-augmented source CLIP features (Fig. 3), retrieval (Fig. 4)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--figure", choices=("tsne", "retrieval", "both"), default="both")
    parser.add_argument("--clip", default="openai/clip-vit-base-patch32",
                        help="CLIP weights: hub id, HF directory, ViT-B-32.pt, or random-tiny / random-base")
    parser.add_argument("--source", default="synth:source",
                        help="source set: synth:DOMAIN or READER:ROOT (e.g. freihand:data/FreiHAND)")
    parser.add_argument("--targets", nargs="*", default=["synth:texture", "synth:lowlight"],
                        help="other domains shown in the t-SNE, same forms as --source")
    parser.add_argument("--n", type=int, default=200, help="images per set")
    parser.add_argument("--size", type=int, default=224, help="synthetic crop size")
    parser.add_argument("--ratio", type=float, default=0.5, help="r of r f^CI + (1 - r) f^CT (Figs. 3-4: 0.5)")
    parser.add_argument("--query", type=int, default=0, help="index of the retrieval query in the source set")
    parser.add_argument("--prompt", default=None, help="retrieval prompt (default: a style prompt drawn with --seed)")
    parser.add_argument("--k", type=int, default=6, help="images retrieved")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("figures/dg_clip"), help="output folder")


def _split(spec: str) -> tuple[str, str]:
    """'synth:texture' -> ('synth', 'texture'); a spec without its part after the colon is refused."""
    name, _, arg = spec.partition(":")
    if not name or not arg:
        raise UserError(f"dataset spec {spec!r}: expected synth:DOMAIN or READER:ROOT")
    return name, arg


def _dataset(spec: str, n: int, size: int, seed: int):
    """synth:DOMAIN -> a rendered set of n crops; READER:ROOT -> a reader's default split."""
    from handclip.data import build_dataset

    name, arg = _split(spec)
    if name == "synth":
        return build_dataset("synth", domain=arg, n=n, size=size, seed=seed)
    return build_dataset(name, root=arg)


def run(args) -> int:
    import torch

    from handclip import preflight
    from handclip.clip import feature_figures as ff
    from handclip.clip.style_prompts import distinct_sentences, sample_indices
    from handclip.clip.towers import load_towers
    from handclip.viz.save import save_figure

    if args.figure in ("tsne", "both"):
        require_extra("figures", "the t-SNE figure", "sklearn")
    for spec in (args.source, *args.targets):  # before CLIP is loaded
        _split(spec)
    preflight.out_folder(args.out)
    torch.manual_seed(args.seed)
    towers = load_towers(args.clip, seed=args.seed)
    weights = f"CLIP {args.clip}" + (" (random weights: shapes only, no meaning)" if args.clip.startswith("random-") else "")
    src_images = ff.dataset_images(_dataset(args.source, args.n, args.size, args.seed), args.n)
    src_feats = ff.image_features(towers, src_images)
    sentences = distinct_sentences()
    report: dict = {"clip": args.clip, "source": args.source, "ratio": args.ratio, "n_source": len(src_images)}

    if args.figure in ("tsne", "both"):
        prompts = [sentences[i] for i in sample_indices(len(src_feats), len(sentences)).tolist()]
        groups = {"aug": ff.mix(src_feats, towers.encode_text(prompts).float().cpu(), args.ratio),
                  args.source: src_feats}
        for spec in args.targets:
            groups[spec] = ff.image_features(towers, ff.dataset_images(_dataset(spec, args.n, args.size, args.seed + 1), args.n))
        fig, coords = ff.tsne_figure(groups, seed=args.seed, title=f"t-SNE of CLIP features, {weights}")
        png = save_figure(fig, args.out / "tsne.png")
        report["tsne"] = {"png": str(png), "coords": {k: v.round(3).tolist() for k, v in coords.items()},
                          "aug_prompts": prompts}

    if args.figure in ("retrieval", "both"):
        if not 0 <= args.query < len(src_images):
            raise UserError(f"--query {args.query} outside the source set (0..{len(src_images) - 1})")
        prompt = args.prompt or sentences[int(sample_indices(1, len(sentences))[0])]
        query = ff.mix(src_feats[args.query], towers.encode_text([prompt])[0].float().cpu(), args.ratio)
        indices, sims = ff.retrieve(query, src_feats, args.k, exclude=args.query)
        fig = ff.retrieval_figure(src_images[args.query], prompt, src_images, indices, sims,
                                  title=f"nearest source images to f^CLIP(x, t), {weights}")
        png = save_figure(fig, args.out / "retrieval.png")
        report["retrieval"] = {"png": str(png), "query": args.query, "prompt": prompt, "indices": indices,
                               "cosine": [round(s, 5) for s in sims]}

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "figures.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v["png"] for k, v in report.items() if isinstance(v, dict)}))
    return 0
