"""Reading mail safely: the HTML part sanitised and framed (html), the text part escaped and linked (text), the
message's own inline parts under signed URLs (parts), and the original source and headers (original)."""
