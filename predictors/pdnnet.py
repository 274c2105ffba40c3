"""PDNNet: a PDN-aware dual-branch GNN-CNN network for static and dynamic IR-drop maps.

Architecture (``hidden`` = h, ``base`` = c; see the README section *PDNGraph and PDNNet*)::

    pdn_cluster feats + image@tile ─Lin─▶ K × ConductanceConv (Pᵀ G P, g-weighted) ─▶ h_A ─┐ in_tile
    cell feats (I, I(t) slices) ─MLP─▶ draws_from/in_cluster ─▶ K × ConductanceConv ─▶ h_B ─┤ (mean)
                                                                                          ▼
    tile image ───────────────────────┬──────▶ [img ‖ raster(h_A)] ─▶ CNN encoder A ─┐
                                      └──────▶ [img ‖ raster(h_B)] ─▶ CNN encoder B ─┴▶ fused U-Net decoder
                                                                                              │ (1+F ch/tile)
    fine maps (+ ir_est) at map res ───────────────────────────────▶ fine head: a + Σ_j b_j · map_j ◀── bilinear
                                                                                              ▼
                                                                                      IR-drop map (nx, ny)

Message passing follows the physics: a cluster aggregates its neighbours weighted by ``g_ij / Σ_k g_ik``
(one Jacobi sweep of the coarsened nodal equations ``Pᵀ G P v = Pᵀ i`` has exactly this form), with learned
channel mixing. The CNN works on the tile grid (``pool`` map pixels per tile edge); the fine head brings the
prediction back to map resolution as a spatially varying linear function of the full-resolution static
maps, whose coefficients the decoder predicts per tile (upsampled bilinearly).

With a physics channel (``GraphParams(physics_iters=k)``: a truncated AMG-PCG estimate of the drop,
:mod:`eda.graphs.pdn_physics`), the estimate is a fourth fine map and the model's output is added to it: the
network learns the correction of the estimate, starting from zero (the decoder's last layer starts at zero).
Inputs and outputs are normalised as :mod:`eda.predictors.normalize` describes. Hyper-parameters:
:class:`~eda.predictors.hparams.PDNNetParams`; building blocks: :mod:`eda.predictors.layers`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from eda.predictors.hparams import PDNNetParams
from eda.predictors.layers import GraphBranches, UNetDecoder, UNetEncoder, fine_head, head_channels, rasterise
from eda.predictors.normalize import Prepared

__all__ = ["PDNNet", "PDNNetParams"]


class PDNNet(nn.Module):
    """Dual-branch GNN-CNN IR-drop predictor (see the module docstring)."""

    model_type = "pdnnet"
    Params = PDNNetParams

    def __init__(self, params: PDNNetParams):
        super().__init__()
        self.params = params
        p = params
        self.graph = GraphBranches(p.n_node, p.n_cell, p.n_channels, p.hidden, p.layers, use_image=True)
        self.cnn_a = UNetEncoder(p.n_channels + p.hidden, p.base, p.depth)
        self.cnn_b = UNetEncoder(p.n_channels + p.hidden, p.base, p.depth)
        self.dec = UNetDecoder(self.cnn_a.chans, n_enc=2, n_out=head_channels(p.n_fine))

    def forward(self, p: Prepared) -> Tensor:
        ha, hb = self.graph(p)
        img = p.image[None]
        fa = self.cnn_a(torch.cat([img, rasterise(ha, p)], dim=1))
        fb = self.cnn_b(torch.cat([img, rasterise(hb, p)], dim=1))
        return fine_head(self.dec([fa, fb]), p)
