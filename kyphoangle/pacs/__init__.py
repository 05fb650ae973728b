"""Exchanging films and reports with hospital systems: DICOM network services and DICOMweb."""
