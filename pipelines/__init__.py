"""PD-closure pipeline over EOIR and ICE FOIA data."""
