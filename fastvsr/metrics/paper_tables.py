"""Published numbers: FastVSR Table 1 (arXiv 2509.24142) and DOVE's column of its main table.

Transcribed from the papers (the baseline columns RealESRGAN ... SeedVR are identical in both papers, so the
protocol is shared). DOVE reports FasterVQA instead of MUSIQ; that row is not reproduced here. E*warp is in
units of 10^-3 and was computed with RAFT flow. Keys are our metric names (``ewarp[raft]`` = E*warp).
"""

from __future__ import annotations

FASTVSR_TABLE1_METHODS = (
    "RealESRGAN", "RealBasicVSR", "Upscale-A-Video", "MGLD-VSR", "VEnhancer", "STAR", "SeedVR", "FastVSR",
)
DATASETS = ("UDM10", "SPMCS", "YouHQ40", "RealVSR", "MVSR4x", "VideoLQ")

# dataset -> metric -> one value per method of FASTVSR_TABLE1_METHODS
FASTVSR_TABLE1: dict[str, dict[str, tuple[float, ...]]] = {
    "UDM10": {
        "psnr": (24.04, 24.13, 21.72, 24.23, 21.32, 23.47, 23.39, 24.36),
        "ssim": (0.7107, 0.6801, 0.5913, 0.6957, 0.6811, 0.6804, 0.6843, 0.7184),
        "lpips": (0.3877, 0.3908, 0.4116, 0.3272, 0.4344, 0.4242, 0.3583, 0.3496),
        "dists": (0.2184, 0.2067, 0.2230, 0.1677, 0.2310, 0.2156, 0.1339, 0.1628),
        "clipiqa": (0.4189, 0.3494, 0.4697, 0.4557, 0.2852, 0.2417, 0.3145, 0.5947),
        "musiq": (55.67, 59.06, 59.91, 60.55, 37.25, 41.98, 53.62, 58.16),
        "dover": (0.7060, 0.7564, 0.7291, 0.7264, 0.4576, 0.4830, 0.6889, 0.7638),
        "ewarp[raft]": (4.83, 3.10, 3.97, 3.59, 1.03, 2.08, 3.24, 1.70),
    },
    "SPMCS": {
        "psnr": (21.22, 22.17, 18.81, 22.39, 18.58, 21.24, 21.22, 22.48),
        "ssim": (0.5613, 0.5638, 0.4113, 0.5896, 0.4850, 0.5441, 0.5672, 0.6020),
        "lpips": (0.3721, 0.3662, 0.4468, 0.3263, 0.5358, 0.5257, 0.3448, 0.3196),
        "dists": (0.2220, 0.2164, 0.2452, 0.1960, 0.2669, 0.2872, 0.1611, 0.1882),
        "clipiqa": (0.5238, 0.3513, 0.5248, 0.4348, 0.3188, 0.2646, 0.3945, 0.6204),
        "musiq": (66.63, 66.87, 69.55, 65.56, 42.71, 36.66, 62.59, 69.18),
        "dover": (0.7490, 0.6753, 0.7171, 0.6754, 0.4284, 0.3204, 0.6576, 0.7525),
        "ewarp[raft]": (5.61, 1.88, 4.22, 1.68, 1.19, 1.01, 1.72, 1.27),
    },
    "YouHQ40": {
        "psnr": (22.82, 22.39, 19.62, 23.17, 19.78, 22.64, 21.94, 22.85),
        "ssim": (0.6337, 0.5895, 0.4824, 0.6194, 0.5911, 0.6323, 0.5914, 0.6614),
        "lpips": (0.3571, 0.4091, 0.4268, 0.3608, 0.4742, 0.4600, 0.3474, 0.3513),
        "dists": (0.1790, 0.1933, 0.2012, 0.1685, 0.2140, 0.2287, 0.1084, 0.1491),
        "clipiqa": (0.4704, 0.3964, 0.5258, 0.4657, 0.3309, 0.2739, 0.4123, 0.5888),
        "musiq": (60.37, 65.30, 67.75, 62.10, 59.69, 34.86, 60.77, 65.38),
        "dover": (0.8572, 0.7636, 0.8596, 0.8446, 0.6957, 0.5594, 0.8492, 0.8558),
        "ewarp[raft]": (5.91, 3.08, 6.84, 3.45, 0.95, 2.21, 3.43, 1.90),
    },
    "RealVSR": {
        "psnr": (20.85, 22.12, 20.29, 22.02, 15.75, 17.43, 20.14, 22.20),
        "ssim": (0.7105, 0.7163, 0.5945, 0.6774, 0.4002, 0.5215, 0.6738, 0.7230),
        "lpips": (0.2016, 0.1870, 0.2671, 0.2182, 0.3784, 0.2943, 0.2466, 0.1830),
        "dists": (0.1279, 0.0983, 0.1425, 0.1169, 0.1688, 0.1599, 0.1185, 0.0965),
        "clipiqa": (0.7472, 0.2905, 0.4855, 0.4510, 0.3880, 0.3641, 0.2996, 0.5206),
        "musiq": (72.43, 70.73, 71.13, 70.69, 72.27, 70.23, 61.24, 73.25),
        "dover": (0.7542, 0.7636, 0.7114, 0.7508, 0.7637, 0.7051, 0.6778, 0.7810),
        "ewarp[raft]": (6.32, 4.45, 6.25, 3.16, 5.15, 9.88, 3.72, 3.40),
    },
    "MVSR4x": {
        "psnr": (22.47, 21.80, 20.42, 22.77, 20.50, 22.42, 21.54, 22.55),
        "ssim": (0.7412, 0.7045, 0.6117, 0.7418, 0.7117, 0.7421, 0.6869, 0.7480),
        "lpips": (0.4534, 0.4235, 0.4717, 0.3568, 0.4471, 0.4311, 0.4944, 0.3430),
        "dists": (0.3021, 0.2498, 0.2673, 0.2245, 0.2800, 0.2714, 0.2229, 0.2291),
        "clipiqa": (0.4396, 0.4118, 0.6106, 0.3769, 0.3104, 0.2674, 0.2371, 0.6058),
        "musiq": (37.80, 62.96, 69.80, 53.46, 37.34, 32.24, 42.56, 69.91),
        "dover": (0.2111, 0.6846, 0.7221, 0.6214, 0.3164, 0.2137, 0.3548, 0.6970),
        "ewarp[raft]": (1.64, 1.69, 5.10, 1.55, 0.62, 0.61, 2.73, 1.02),
    },
    "VideoLQ": {
        "clipiqa": (0.3617, 0.3433, 0.4132, 0.3465, 0.3031, 0.2652, 0.2359, 0.4513),
        "musiq": (49.84, 55.62, 55.04, 51.00, 42.35, 39.66, 39.10, 53.11),
        "dover": (0.7310, 0.7388, 0.7370, 0.7421, 0.6912, 0.7080, 0.6799, 0.7432),
        "ewarp[raft]": (7.58, 5.97, 13.47, 6.79, 6.50, 5.96, 8.34, 6.92),
    },
}

# DOVE (Chen et al., arXiv 2505.16239), main quantitative table, DOVE column (no MUSIQ; FasterVQA omitted)
DOVE_COLUMN: dict[str, dict[str, float]] = {
    "UDM10": {"psnr": 26.48, "ssim": 0.7827, "lpips": 0.2696, "dists": 0.1492, "clipiqa": 0.5107,
              "dover": 0.7809, "ewarp[raft]": 1.77},
    "SPMCS": {"psnr": 23.11, "ssim": 0.6210, "lpips": 0.2888, "dists": 0.1713, "clipiqa": 0.5690,
              "dover": 0.7828, "ewarp[raft]": 1.04},
    "YouHQ40": {"psnr": 24.30, "ssim": 0.6740, "lpips": 0.2997, "dists": 0.1477, "clipiqa": 0.4985,
                "dover": 0.8574, "ewarp[raft]": 2.05},
    "RealVSR": {"psnr": 22.32, "ssim": 0.7301, "lpips": 0.1851, "dists": 0.0978, "clipiqa": 0.5207,
                "dover": 0.7867, "ewarp[raft]": 3.52},
    "MVSR4x": {"psnr": 22.42, "ssim": 0.7523, "lpips": 0.3476, "dists": 0.2363, "clipiqa": 0.5453,
               "dover": 0.6984, "ewarp[raft]": 0.78},
    "VideoLQ": {"clipiqa": 0.3484, "dover": 0.7435, "ewarp[raft]": 5.85},
}


def published_results() -> dict[str, dict[str, dict[str, float]]]:
    """Method -> dataset -> metric -> published value, for every method of both tables."""
    methods: dict[str, dict[str, dict[str, float]]] = {m: {} for m in FASTVSR_TABLE1_METHODS}
    for dataset, rows in FASTVSR_TABLE1.items():
        for metric, values in rows.items():
            for method, value in zip(FASTVSR_TABLE1_METHODS, values, strict=True):
                methods[method].setdefault(dataset, {})[metric] = value
    methods["DOVE"] = {dataset: dict(rows) for dataset, rows in DOVE_COLUMN.items()}
    return methods
