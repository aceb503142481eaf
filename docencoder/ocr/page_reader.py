"""The page path (DeepSeek-OCR): the whole page as one view, and for Gundam local tiles.

A *page model* (``geometry.kind == "page"``: tiny/small/base/large/gundam) sees the whole page,
resized to fit the geometry and padded with white (aspect ratio kept, :func:`fit_page`); Gundam
adds ``rows x cols`` local tiles of ``tile_size`` cut from the page resized to the tile grid
closest to its aspect ratio (:func:`tile_grid`), as in DeepSeek-OCR's dynamic resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

from PIL import Image

from docencoder.pdf.render import fit_page

from .base_reader import BaseReader

if TYPE_CHECKING:
    import torch

TileGrid = tuple[int, int]  # (rows, cols) of Gundam tiles


def tile_grid(size: tuple[int, int], min_tiles: int, max_tiles: int) -> TileGrid:
    """``(rows, cols)`` with ``min_tiles <= rows * cols <= max_tiles`` closest to the page's aspect.

    Ties go to more tiles (more detail), as in DeepSeek-OCR's dynamic resolution.
    """
    w, h = size
    aspect = w / h
    best, best_key = (1, min_tiles), None
    for n in range(min_tiles, max_tiles + 1):
        for rows in range(1, n + 1):
            if n % rows:
                continue
            cols = n // rows
            key = (abs(math.log(aspect / (cols / rows))), -n)
            if best_key is None or key < best_key:
                best, best_key = (rows, cols), key
    return best


@dataclass
class PageImage:
    """What the page path keeps of one page before decoding: the page image itself (its tensors
    are made at decode time, so a waiting page holds one image, not float views and tiles)."""

    image: Image.Image

    @property
    def count(self) -> int:
        """Views to decode: the page's share of a decode batch (one, like one line piece)."""
        return 1


class PageReader(BaseReader[PageImage]):
    """Reads pages with a page model (``geometry.kind == "page"``); see the module docstring."""

    kind = "page"

    def page_tensors(self, page: Image.Image
                     ) -> tuple["torch.Tensor", Optional["torch.Tensor"], Optional[TileGrid]]:
        """Main view `(3, H, W)` and, for Gundam, tiles `(n, 3, t, t)` with their grid."""
        from docencoder.data.lines import to_tensor

        g = self.cfg.geometry
        view = fit_page(page, width=g.width, height=g.height)
        pixels = to_tensor([view])[0]  # (3, H, W)
        if not g.tile_size:
            return pixels, None, None
        rows, cols = tile_grid(page.size, g.min_tiles, g.max_tiles)
        t = g.tile_size
        big = page.convert("L").resize((cols * t, rows * t), Image.Resampling.BICUBIC)
        tiles = [big.crop((c * t, r * t, (c + 1) * t, (r + 1) * t))
                 for r in range(rows) for c in range(cols)]
        return pixels, to_tensor(tiles), (rows, cols)  # tiles: (n, 3, t, t), row-major

    def prepare(self, page: Image.Image) -> PageImage:
        return PageImage(page)

    def read_prepared(self, pages: Sequence[PageImage]) -> list[str]:
        """Decode pages in batches of one tile grid each (one generate call needs one grid)."""
        import torch

        prepared = [self.page_tensors(p.image) for p in pages]
        out: list[str] = [""] * len(pages)
        groups: dict[Optional[TileGrid], list[int]] = {}
        for i, (_, _, grid) in enumerate(prepared):
            groups.setdefault(grid, []).append(i)
        budget = self.cfg.decoder.max_position_embeddings - len(self.prompt_ids)
        for grid, members in groups.items():
            cap = min(self.gen.page_max_new_tokens,
                      budget - self.cfg.prefix_length(grid or (0, 0)))
            if cap < 1:
                raise ValueError(f"model {self.cfg.name!r}: the vision prefix leaves no room to "
                                 f"generate within {self.cfg.decoder.max_position_embeddings} positions")
            for start in range(0, len(members), self.batch_size):
                idx = members[start:start + self.batch_size]
                pixels = torch.stack([prepared[i][0] for i in idx]).to(self.device)  # (B, 3, H, W)
                tiles = None
                if grid is not None:
                    tiles = torch.stack([prepared[i][1] for i in idx]).to(self.device)  # (B, n, 3, t, t)
                self.vision_tokens += len(idx) * self.cfg.vision_tokens(
                    grid[0] * grid[1] if grid else 0)
                with torch.inference_mode():
                    ids = self.model.generate(pixels, self.prompt_ids, tiles=tiles, tile_grid=grid,
                                              max_new_tokens=cap,
                                              no_repeat_ngram=self.gen.page_no_repeat_ngram,
                                              repeat_window=self.gen.repeat_window)  # (B, T)
                for row, i in zip(ids.tolist(), idx):
                    out[i] = self.tokenizer.decode(row).strip()
        return out
