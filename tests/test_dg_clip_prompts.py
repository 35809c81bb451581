"""DG-CLIP style prompts: counts of paper Table 2 and the 35 examples of supplement Table 4."""

import torch

from handclip.clip import style_prompts as sp

# supplement Table 4, verbatim
TABLE4 = """a picture of peach hand with sky blue background
one white hand with orange room
a photo of right black hand with dark room
a photo of right white right hand with black background
a photo of black hand with lake background
a cropped photo of peach right hand with beige room
a cropped photo of white right hand with yellow room
a cropped image of light beige right hand with blue background
a photo of pale yellow hand with bright background
a cropped photo of pale yellow hand with brown room
a cropped image of peach right hand with yellow background
a cropped image of white right hand with white room
one white hand with bright room
one peach hand with green background
a photo of peach hand with black room
a photo of right white hand with green background
a photo of right dark brown hand with brown background
a photo of right dark brown hand with blue background
a picture of light beige right hand with blue room
a image of light beige right hand with red background
a picture of brown right hand with green background
a cropped photo of pale yellow hand with lake room
a cropped photo of light beige right hand with blue room
a cropped image of peach hand with green room
one white hand with gray background
a picture of white right hand with white background
a image of black hand with beige background
one peach hand with mountain room
a photo of light beige right hand with white background
a cropped photo of brown right hand with purple room
a picture of black hand with yellow room
a photo of light beige right hand with sky blue background
a image of pale yellow right hand with orange background
a image of brown hand with white room
a photo of right pale yellow hand with yellow background""".split("\n")


def test_counts_as_printed():
    assert [len(c) for c in sp.COLUMNS] == [7, 7, 2, 20, 2]
    assert len(sp.combinations()) == 7 * 7 * 2 * 20 * 2 == 3920
    sentences = sp.distinct_sentences()
    assert len(sentences) == 3724 == 7 * 7 * 2 * 19 * 2  # "yellow" is printed twice
    assert len(set(sentences)) == len(sentences)


def test_all_35_examples_are_generated():
    assert len(TABLE4) == 35
    assert set(TABLE4) <= set(sp.distinct_sentences())


def test_sampling_is_uniform_over_distinct_sentences():
    n = len(sp.distinct_sentences())
    g = torch.Generator().manual_seed(0)
    idx = sp.sample_indices(200_000, n, generator=g)
    assert idx.min() >= 0 and idx.max() < n
    counts = torch.bincount(idx, minlength=n).float()
    # each sentence expects 53.7 draws; every count within 6 binomial standard deviations
    assert (counts - counts.mean()).abs().max() < 6 * counts.mean().sqrt()
