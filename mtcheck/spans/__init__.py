"""Operations on findings (spans): merging duplicates that several checks report."""

from mtcheck.spans.merge import merge_spans

__all__ = ["merge_spans"]
