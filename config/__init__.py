"""Configuration: typed settings from the environment (`config.settings`) and the rules
file loader (`config.rules`), plus the example rules shipped with the package."""
