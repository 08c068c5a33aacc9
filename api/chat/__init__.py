"""Chat over HTTP: thin routes over the channels package (conversations, messages, search, files)."""
