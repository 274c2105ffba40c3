"""Power delivery networks: the flat-array :class:`~eda.pdn.model.PDN` model and its tools.

Modules: ``model`` (PDN), ``parse`` (``read_pdn``/``parse_pdn``: ICCAD'23, IBM power grid, BeGAN decks),
``write`` (SPICE decks, CSV maps), ``solve`` (exact static and transient IR drop), ``grid`` (regular-grid
generator), ``maps`` (contest maps), ``plot`` (PNG pictures), ``ngspice`` (cross-checks),
``pipeline`` (deck → output folder, used by ``eda irdrop``).
"""
