"""Recipes: end-to-end procedures built on the package (the shipped default model's data, training and report;
the test clips). The top layer: nothing else in ``fastvsr`` imports it."""
