"""Metadata layer: parsing, vocabulary errors, Eq. 1–3 encodings, batching from data samples."""

from __future__ import annotations

import math

import pytest
import torch

from auxdet.metadata import (
    ImageMeta,
    MetaBatch,
    MetadataError,
    Vocabulary,
    metas_from_data_samples,
    one_hot,
    resolution_embedding,
)


def test_parsing_is_case_and_whitespace_tolerant() -> None:
    vocab = Vocabulary()
    meta = vocab.parse(" space ", "nir", 1024, "1024", image="a.png")
    assert meta == ImageMeta("Space", "NIR", 1024, 1024)
    assert vocab.index("band", "  SWIR\t") == 2


def test_unknown_value_names_image_field_value_and_valid_values() -> None:
    with pytest.raises(MetadataError, match=r"image 'x\.png'.*'band'.*'MWIR'.*\['LWIR', 'NIR', 'SWIR'\]"):
        Vocabulary().parse("Air", "MWIR", 256, 256, image="x.png")


def test_unknown_bucket_only_when_enabled() -> None:
    vocab = Vocabulary.from_config(dict(allow_unknown=True))
    assert vocab.num_bands == 4 and vocab.index("band", "MWIR") == 3
    assert vocab.canonical("band", "MWIR") == "unknown"


@pytest.mark.parametrize("bad", [None, "", "  "])
def test_missing_value_is_an_error(bad: object) -> None:
    with pytest.raises(MetadataError, match="missing"):
        Vocabulary().index("platform", bad, image="y.png")


@pytest.mark.parametrize("w", [0, -3, 2.5, "abc"])
def test_bad_resolution(w: object) -> None:
    with pytest.raises(MetadataError, match="width"):
        Vocabulary().parse("Air", "LWIR", w, 256)


def test_vocabulary_config_errors() -> None:
    with pytest.raises(MetadataError, match="platfroms"):
        Vocabulary.from_config({"platfroms": ["Air"]})
    with pytest.raises(MetadataError, match="duplicate"):
        Vocabulary(platforms=("Air", "air"))
    custom = Vocabulary.from_config(dict(platforms=["Ship", "Air"], bands=["MWIR"]))
    assert custom.index("platform", "ship") == 0 and custom.num_bands == 1


def test_one_hot_eq1_2_inputs() -> None:
    x = one_hot(torch.tensor([2, 0]), 3)
    assert torch.equal(x, torch.tensor([[0.0, 0, 1], [1, 0, 0]]))


def test_resolution_embedding_eq3() -> None:
    z = resolution_embedding(torch.tensor([640, 256]), torch.tensor([512, 256]), 2048.0, 1024.0)
    assert z.shape == (2, 6)
    w, h = 640, 512
    expected = [math.sin(w / 2048), math.sin(h / 1024), math.sin(w / h), math.cos(w / 2048), math.cos(h / 1024), math.cos(w / h)]
    assert torch.allclose(z[0], torch.tensor(expected), atol=1e-6)
    assert torch.allclose(z[:, :3] ** 2 + z[:, 3:] ** 2, torch.ones(2, 3), atol=1e-6)


class _Sample:
    def __init__(self, **info: object) -> None:
        self.metainfo = info


def test_batch_from_data_samples_is_vectorised_and_validated() -> None:
    samples = [
        _Sample(img_path="a.png", platform="Air", band="LWIR", width=256, height=256),
        _Sample(img_path="b.png", platform="Space", band="NIR", width=1024, height=740),
    ]
    batch = metas_from_data_samples(samples, Vocabulary())
    assert batch.platform.tolist() == [0, 1] and batch.band.tolist() == [0, 1]
    assert batch.width.tolist() == [256, 1024] and batch.height.tolist() == [256, 740]
    assert len(batch.to("cpu")) == 2
    with pytest.raises(MetadataError, match=r"image 'c\.png': missing metadata fields \['band'\]"):
        metas_from_data_samples([_Sample(img_path="c.png", platform="Air", width=1, height=1)], Vocabulary())
    with pytest.raises(MetadataError, match="no data samples"):
        metas_from_data_samples([], Vocabulary())


def test_meta_batch_from_records() -> None:
    b = MetaBatch.from_metas([ImageMeta("Land", "SWIR", 640, 512)], Vocabulary())
    assert b.platform.item() == 2 and b.band.item() == 2
