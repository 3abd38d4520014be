"""Training: one explicit accelerate loop per stage (``vae.py``: stages 0-1, ``diffusion.py``: stage 2) over
shared helpers (``common.py``, ``checkpoint.py``, ``runlog.py``, ``validation.py``, ``plots.py``)."""
