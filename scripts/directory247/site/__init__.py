"""The site of every release: pages rendered to Markdown, MkDocs, the offline bundle, one swap."""
