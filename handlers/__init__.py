"""The conversation core: channel-neutral messages, the router and one module per feature."""
