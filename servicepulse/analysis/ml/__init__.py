"""The understanding pipeline as plain functions (no Django): normalise, language, encoder, heads, tagging,
near-duplicates, and `analyze_texts` which runs them all with one encoder pass per text."""

from servicepulse.analysis.ml.pipeline import AnalysisResult, analyze_texts, get_heads, model_version

__all__ = ["AnalysisResult", "analyze_texts", "get_heads", "model_version"]
