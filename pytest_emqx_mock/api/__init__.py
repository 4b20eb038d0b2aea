"""The EMQX 5 REST API over the model: one module per EMQX API module, one shared pipeline."""
