"""Interchange: a project to and from files for other tools and for papers: analysis tables
(`exports`, `xlsx`), the Word report (`report`) and REFI-QDA projects and codebooks (`refi`)."""
