"""Trained torch networks that cross-check the theory (issue "deep"): not implemented yet.

Nothing here is imported by the rest of the toolkit; the package exists so that the layout
promised in the README installs.
"""
