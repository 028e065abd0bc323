"""Documents: labels, manifests, floor sheets (ReportLab PDF), barcodes, fonts, printers."""
