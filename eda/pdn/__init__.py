"""Power delivery networks: the flat-array :class:`~eda.pdn.model.PDN` model and its tools.

Modules: ``model`` (PDN), ``parse`` (``read_pdn``/``parse_pdn``: ICCAD'23, IBM power grid, BeGAN decks),
``contest`` (ICCAD'23 cases in both published layouts), ``write`` (SPICE decks), ``mapcsv`` (the CSV map
reader/writer), ``check`` (``check_pdn``: physics sanity before solving or predicting), ``solve`` (exact
static and transient IR drop), ``grid`` (regular-grid generator), ``maps`` (contest maps and scale),
``metrics`` (MAE, F1, ...), ``plot`` (PNG pictures), ``ngspice`` (cross-checks), ``pipeline`` (case →
output folder, used by ``eda irdrop``).
"""
