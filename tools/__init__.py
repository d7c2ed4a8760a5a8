"""Tools for people who work on dealreg (screenshots, sample histories); never shipped."""
