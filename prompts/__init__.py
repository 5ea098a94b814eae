"""The dialogue scripts and every spoken sentence, as TOML files.

Installed as the package data `facilitator.prompts_data`; read them with
`facilitator.prompts` (load_toml, common, resource), never by a path beside the code.
"""
