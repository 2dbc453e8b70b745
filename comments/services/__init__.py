"""The service layer: the rules of posting, reading and managing sites, free of any request."""
