"""The knowledge base: Vietnamese normalisation, loading and validation, and search."""
