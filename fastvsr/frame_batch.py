"""The default frame batch of causal-VAE inference, shared by the models and the pipeline without importing
either (``fastvsr.models`` may not import the pipeline; ``fastvsr.pipeline.config`` must stay torch-free for
command-line help).

``DEFAULT_FRAME_BATCH`` frames are encoded / decoded at a time, the causal padding carried from batch to batch
(0: the whole clip). 1 keeps the 17-frame 720p demo under 2.5 GB peak RSS on CPU; 2 takes 7-9 % less CPU
time for about 0.4 GB more (docs/benchmarks.md, ``configs/bench/default_cpu_frames.yaml``).
"""

DEFAULT_FRAME_BATCH = 1
