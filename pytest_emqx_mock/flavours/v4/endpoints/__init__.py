"""EMQX 4.4's API modules, one module each (`apps/emqx_management/src/emqx_mgmt_api_*.erl`)."""
