"""What people and machines read: terminal summary, JSON/JSONL and CSV files."""

from mtcheck.report.files import write_csv, write_json, write_jsonl
from mtcheck.report.terminal import render_summary

__all__ = ["render_summary", "write_csv", "write_json", "write_jsonl"]
