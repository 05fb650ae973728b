"""The kyphoangle reading workstation: a thin Qt layer over the core (`kyphoangle`)."""
