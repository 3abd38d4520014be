"""The built-in model kinds (one module each; :mod:`fastvsr.models.registry` maps names to them)."""
