"""Vietnamese text normalization shared by the NLU pipeline and the tools."""
