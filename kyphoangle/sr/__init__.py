"""Signed reads as DICOM: structured reports (TID 1500), presentation states, and reading them back."""
