"""Typed configuration of the DeepEncoder + decoder model and the registry of named geometries.

The geometries follow the DeepSeek-OCR paper (Wei et al., 2025, "DeepSeek-OCR: Contexts Optical
Compression", Table 1): a SAM-style encoder with patch size ``p`` gives an ``H/p x W/p`` grid, the
16x convolutional compressor divides each side by 4, so a view yields ``(H/4p) * (W/4p)`` vision
tokens (512 px -> 64, 640 -> 100, 1024 -> 256, 1280 -> 400; Gundam = n * 100 + 256).

Every named config asserts its own vision-token count in ``__post_init__`` so that a change to a
patch size or an image size that silently changes the arithmetic fails loudly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, get_args

#: Total downsampling of the compressor per side (two stride-2 convolutions).
COMPRESSOR_STRIDE = 4

#: How a geometry reads a page: ``line`` sees one text line at a time (the reader lays the page
#: out into lines first), ``page`` sees the whole page (DeepSeek-OCR's views and tiles).
GeometryKind = Literal["line", "page"]
GEOMETRY_KINDS: tuple[str, ...] = get_args(GeometryKind)


@dataclass
class SamConfig:
    """SAM-like ViTDet encoder: windowed attention with a few global layers (Kirillov et al., 2023)."""

    patch_size: int = 16  # pixels per patch side
    dim: int = 768  # transformer width
    depth: int = 12  # number of blocks
    heads: int = 12  # attention heads
    mlp_ratio: float = 4.0  # MLP hidden width / dim
    window: tuple[int, int] = (14, 14)  # (rows, cols) of a local attention window, in patches
    global_layers: tuple[int, ...] = (2, 5, 8, 11)  # 0-based indices of global-attention blocks
    neck_dim: int = 256  # channels of the conv neck output (C)
    use_rel_pos: bool = True  # decomposed relative position bias as in SAM
    pos_grid: tuple[int, int] = (64, 64)  # grid of the learned absolute position embedding
    #: a smaller grid takes the top-left corner of the position table instead of a resized table,
    #: so a narrow line crop sees exactly the positions of the left part of a full-width one
    crop_pos: bool = False

    def __post_init__(self) -> None:
        self.window = tuple(self.window)  # type: ignore[assignment]
        self.global_layers = tuple(self.global_layers)
        self.pos_grid = tuple(self.pos_grid)  # type: ignore[assignment]
        if self.dim % self.heads:
            raise ValueError(f"sam.dim={self.dim} must be divisible by sam.heads={self.heads}")
        if any(not 0 <= i < self.depth for i in self.global_layers):
            raise ValueError(f"sam.global_layers {self.global_layers} outside 0..{self.depth - 1}")
        if len(self.window) != 2 or min(self.window) < 1:
            raise ValueError(f"sam.window must be two positive ints, got {self.window}")


@dataclass
class CompressorConfig:
    """Two 3x3 stride-2 convolutions, C -> 2C -> D: 16x fewer tokens (DeepSeek-OCR, Sec. 3.2)."""

    activation: bool = True  # GELU between the two convs (the paper's convs are purely linear)


@dataclass
class ClipConfig:
    """CLIP-style global-attention encoder over the compressed map (patch embedding bypassed)."""

    width: int = 1024  # D, also the compressor's output channels
    layers: int = 24
    heads: int = 16
    mlp_ratio: float = 4.0
    pos_grid: tuple[int, int] = (16, 16)  # grid of the learned position embedding (plus class token)
    crop_pos: bool = False  # as SamConfig.crop_pos

    def __post_init__(self) -> None:
        self.pos_grid = tuple(self.pos_grid)  # type: ignore[assignment]
        if self.width % self.heads:
            raise ValueError(f"clip.width={self.width} must be divisible by clip.heads={self.heads}")


@dataclass
class DecoderConfig:
    """Compact causal LM (Llama architecture from transformers) that reads vision tokens as a prefix."""

    hidden_size: int = 512
    layers: int = 4
    heads: int = 8
    kv_heads: int = 8
    intermediate_size: int = 1536
    max_position_embeddings: int = 4096  # longest sequence, vision prefix included
    rope_theta: float = 10000.0
    tie_embeddings: bool = True
    #: optional local directory of a transformers causal LM to use instead of a fresh model
    pretrained_path: Optional[str] = None

    def __post_init__(self) -> None:
        if self.hidden_size % self.heads or self.heads % self.kv_heads:
            raise ValueError("decoder.hidden_size % heads and heads % kv_heads must be 0")


@dataclass
class GeometryConfig:
    """Input image geometry: the main (global) view and, for Gundam, local tiles."""

    #: ``line`` or ``page`` (:data:`GeometryKind`): which reading path the model takes
    #: (``docencoder.ocr.reader.Reader`` picks ``LineReader`` or ``PageReader`` by it)
    kind: GeometryKind = "page"
    height: int = 1024  # main view height in pixels
    width: int = 1024  # main view width in pixels
    tile_size: int = 0  # local tile edge in pixels (Gundam); 0 = no tiles
    min_tiles: int = 2  # tile count range for Gundam's dynamic tiling
    max_tiles: int = 9
    #: the main view may be narrower than ``width`` (any multiple of patch * 4): line models encode
    #: each piece at its own width instead of paying for white padding (position tables are
    #: cropped, see ``SamConfig.crop_pos``)
    dynamic_width: bool = False

    def __post_init__(self) -> None:
        if self.kind not in GEOMETRY_KINDS:
            raise ValueError(f"geometry.kind={self.kind!r}: use one of {', '.join(GEOMETRY_KINDS)}")
        if self.kind == "line" and self.tile_size:
            raise ValueError("a line geometry reads one line per view: it has no tiles "
                             f"(geometry.tile_size={self.tile_size})")


def legacy_geometry_kind(name: str) -> GeometryKind:
    """The kind of a config saved before ``geometry.kind`` existed, from its name.

    Until then the reader took the line path for configs whose name starts with ``line`` and the
    page path for all others; config.json files written then (the shipped
    ``docencoder/assets/default``, older exports) carry no kind, so they get it by that rule, here
    and nowhere else (:meth:`ModelConfig.from_dict`).
    """
    return "line" if name.startswith("line") else "page"


@dataclass
class TokenConfig:
    """Special-token ids the model must know; filled from the tokenizer (see data/tokenizer.py)."""

    pad_id: int = 0  # padding, never attended to and never a target
    eos_id: int = 2  # end of text: a target, ends generation
    image_id: int = 4  # placeholder whose embedding is replaced by a vision token
    #: ids that only condition the decoder (bos, task prompts): never a loss target
    prompt_ids: tuple[int, ...] = (1, 5, 6, 11)

    def __post_init__(self) -> None:
        self.prompt_ids = tuple(self.prompt_ids)

    @property
    def non_target_ids(self) -> tuple[int, ...]:
        return (self.pad_id, self.image_id, *self.prompt_ids)


@dataclass
class ModelConfig:
    """The full DocEncoder model: geometry + SAM + compressor + CLIP + projector + decoder."""

    name: str = "base"
    geometry: GeometryConfig = field(default_factory=GeometryConfig)
    sam: SamConfig = field(default_factory=SamConfig)
    compressor: CompressorConfig = field(default_factory=CompressorConfig)
    clip: ClipConfig = field(default_factory=ClipConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    vocab_size: int = 512  # set from the tokenizer
    tokens: TokenConfig = field(default_factory=TokenConfig)
    #: tokens per main view the geometry must produce; checked, so the arithmetic never drifts
    expected_tokens: Optional[int] = None
    newline_tokens: bool = True  # a learned newline embedding after each row of vision tokens
    init_std: float = 0.02
    #: a CTC reader on the SAM map (:mod:`docencoder.model.ctc`), line geometries only: trained
    #: beside the decoder and used by the line reader's joint CTC/attention decoding
    ctc_head: bool = False

    def __post_init__(self) -> None:
        for name, typ in (("geometry", GeometryConfig), ("sam", SamConfig),
                          ("compressor", CompressorConfig), ("clip", ClipConfig),
                          ("decoder", DecoderConfig), ("tokens", TokenConfig)):
            value = getattr(self, name)
            if isinstance(value, dict):
                setattr(self, name, typ(**value))
        g, p = self.geometry, self.sam.patch_size
        unit = p * COMPRESSOR_STRIDE
        for side, px in (("height", g.height), ("width", g.width)):
            if px % unit:
                raise ValueError(f"geometry.{side}={px} must be a multiple of patch*4={unit}")
        if g.tile_size and g.tile_size % unit:
            raise ValueError(f"geometry.tile_size={g.tile_size} must be a multiple of {unit}")
        if self.ctc_head and g.kind != "line":
            raise ValueError(f"config {self.name!r}: a CTC head reads line geometries only, "
                             f"this one is {g.kind!r}")
        if self.expected_tokens is not None and self.view_tokens != self.expected_tokens:
            raise ValueError(
                f"config {self.name!r}: {g.height}x{g.width} px with patch {p} gives "
                f"{self.view_tokens} vision tokens, expected {self.expected_tokens}")

    # --- vision-token arithmetic -------------------------------------------------------------
    def token_grid(self, height: int, width: int) -> tuple[int, int]:
        """Rows and columns of compressed vision tokens for a view of ``height x width`` pixels."""
        unit = self.sam.patch_size * COMPRESSOR_STRIDE
        return height // unit, width // unit

    @property
    def view_tokens(self) -> int:
        """Vision tokens of the main view (no newline/separator tokens)."""
        rows, cols = self.token_grid(self.geometry.height, self.geometry.width)
        return rows * cols

    @property
    def tile_tokens(self) -> int:
        """Vision tokens of one Gundam tile (0 without tiles)."""
        if not self.geometry.tile_size:
            return 0
        rows, cols = self.token_grid(self.geometry.tile_size, self.geometry.tile_size)
        return rows * cols

    def vision_tokens(self, n_tiles: int = 0) -> int:
        """Vision tokens for one image with ``n_tiles`` local tiles (DeepSeek-OCR's count)."""
        return self.view_tokens + n_tiles * self.tile_tokens

    @property
    def width_unit(self) -> int:
        """Pixels per compressed vision token along a side (patch * compressor stride)."""
        return self.sam.patch_size * COMPRESSOR_STRIDE

    def prefix_length(self, tile_grid: tuple[int, int] = (0, 0), width: Optional[int] = None) -> int:
        """Decoder positions taken by one image: tokens + row newlines + one view separator.

        ``width`` is the main view's pixel width when it is narrower than the geometry's
        (``geometry.dynamic_width``); None = the full width.
        """
        rows, cols = self.token_grid(self.geometry.height, width or self.geometry.width)
        n = rows * (cols + int(self.newline_tokens))
        tr, tc = tile_grid
        if tr and tc:
            t_rows, t_cols = self.token_grid(self.geometry.tile_size, self.geometry.tile_size)
            n += (tr * t_rows) * (tc * t_cols + int(self.newline_tokens))
        return n + 1

    # --- (de)serialisation -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        """The config of a saved ``to_dict`` (config.json); one saved without ``geometry.kind``
        gets it from its name (:func:`legacy_geometry_kind`)."""
        geometry = d.get("geometry")
        if isinstance(geometry, dict) and "kind" not in geometry:
            d = {**d, "geometry": {"kind": legacy_geometry_kind(d.get("name", "base")), **geometry}}
        return cls(**d)


# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------

def _sam_b() -> SamConfig:
    return SamConfig()  # SAM-B: patch 16, dim 768, depth 12, window 14, globals 2/5/8/11, neck 256


def _clip_l() -> ClipConfig:
    return ClipConfig(width=1024, layers=24, heads=16)  # CLIP-L/14 transformer


def _small_encoder(height: int, width: int) -> dict[str, Any]:
    """A CPU-sized DeepEncoder used for the DeepSeek geometries in tests and small runs."""
    return dict(
        sam=SamConfig(patch_size=16, dim=96, depth=4, heads=3, window=(7, 7), global_layers=(1, 3),
                      neck_dim=64, use_rel_pos=True, pos_grid=(height // 16, width // 16)),
        clip=ClipConfig(width=128, layers=2, heads=4, pos_grid=(height // 64, width // 64)),
        decoder=DecoderConfig(hidden_size=128, layers=2, heads=4, kv_heads=2, intermediate_size=256),
    )


def _line() -> ModelConfig:
    """Our shipped default: one text line, 32 px high, up to 512 px wide -> up to 16 vision tokens.

    Sized to train on a 2-core CPU in fp32: patch 8 gives a 4 x (W/8) grid that windows of 4 x 16
    cover; two global layers mix the whole line; the compressor yields 1 x W/32 tokens (about 3
    characters each at this scale). Each piece is encoded at its own width (``dynamic_width``):
    measured on dev pages, pieces fill 59 % of 512 px on average and the SAM stage is ~80 % of
    inference, so white padding was most of the cost. SAM is 128 wide (v1: 192).
    """
    return ModelConfig(
        name="line",
        geometry=GeometryConfig(kind="line", height=32, width=512, dynamic_width=True),
        sam=SamConfig(patch_size=8, dim=128, depth=4, heads=4, window=(4, 16), global_layers=(1, 3),
                      neck_dim=128, use_rel_pos=False, pos_grid=(4, 64), crop_pos=True),
        clip=ClipConfig(width=256, layers=3, heads=4, pos_grid=(1, 16), crop_pos=True),
        decoder=DecoderConfig(hidden_size=256, layers=4, heads=4, kv_heads=4, intermediate_size=768,
                              max_position_embeddings=4096),
        expected_tokens=16,
    )


def _line_v1() -> ModelConfig:
    """The first shipped line model (session 1): fixed 512-px width, SAM 192 wide."""
    return ModelConfig(
        name="line-v1",
        geometry=GeometryConfig(kind="line", height=32, width=512),
        sam=SamConfig(patch_size=8, dim=192, depth=4, heads=3, window=(4, 16), global_layers=(1, 3),
                      neck_dim=128, use_rel_pos=False, pos_grid=(4, 64)),
        clip=ClipConfig(width=256, layers=3, heads=4, pos_grid=(1, 16)),
        decoder=DecoderConfig(hidden_size=256, layers=4, heads=4, kv_heads=4, intermediate_size=768,
                              max_position_embeddings=4096),
        expected_tokens=16,
    )


def _line_tiny() -> ModelConfig:
    """The line geometry at test size: same arithmetic as ``line``, a fraction of the compute."""
    cfg = _line()
    cfg.name = "line-tiny"
    cfg.sam = SamConfig(patch_size=8, dim=32, depth=2, heads=2, window=(4, 16), global_layers=(1,),
                        neck_dim=32, use_rel_pos=False, pos_grid=(4, 64), crop_pos=True)
    cfg.clip = ClipConfig(width=64, layers=1, heads=2, pos_grid=(1, 16), crop_pos=True)
    cfg.decoder = DecoderConfig(hidden_size=64, layers=2, heads=2, kv_heads=1, intermediate_size=128,
                                max_position_embeddings=4096)
    return cfg


def _deepseek(name: str, size: int, tokens: int) -> ModelConfig:
    return ModelConfig(name=name, geometry=GeometryConfig(height=size, width=size),
                       expected_tokens=tokens, **_small_encoder(size, size))


def _gundam() -> ModelConfig:
    cfg = ModelConfig(name="gundam", geometry=GeometryConfig(height=1024, width=1024, tile_size=640),
                      expected_tokens=256, **_small_encoder(1024, 1024))
    return cfg


def _deepseek_scale() -> ModelConfig:
    """DeepEncoder at the paper's size: SAM-B (~80M) + CLIP-L (~300M), 1024 px, 256 tokens."""
    return ModelConfig(
        name="deepseek-scale",
        geometry=GeometryConfig(height=1024, width=1024, tile_size=640),
        sam=_sam_b(),
        clip=_clip_l(),
        decoder=DecoderConfig(hidden_size=1280, layers=12, heads=10, kv_heads=10,
                              intermediate_size=3584, max_position_embeddings=8192),
        expected_tokens=256,
    )


_REGISTRY = {
    "line": _line,
    "line-v1": _line_v1,
    "line-tiny": _line_tiny,
    "tiny": lambda: _deepseek("tiny", 512, 64),
    "small": lambda: _deepseek("small", 640, 100),
    "base": lambda: _deepseek("base", 1024, 256),
    "large": lambda: _deepseek("large", 1280, 400),
    "gundam": _gundam,
    "deepseek-scale": _deepseek_scale,
}


def config_names() -> list[str]:
    """Names of every registered geometry/config."""
    return list(_REGISTRY)


def get_config(name: str, **overrides: Any) -> ModelConfig:
    """A fresh copy of a registered config, with top-level fields overridden.

    Raises:
        KeyError: for an unknown name, listing the known ones.
    """
    if name not in _REGISTRY:
        raise KeyError(f"unknown model config {name!r}; known: {', '.join(_REGISTRY)}")
    cfg = _REGISTRY[name]()
    geometry = overrides.get("geometry")
    if isinstance(geometry, dict) and "kind" not in geometry:
        # a geometry given as a dict replaces the whole geometry; it keeps the config's kind
        overrides["geometry"] = {"kind": cfg.geometry.kind, **geometry}
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    return cfg
