"""The HTML5 tree builder's categories of elements, as far as the replay needs them: void, formatting, marker,
special and scope-boundary elements, and the start tags that imply end tags, are ignored, or leave SVG/MathML."""
_VOID = frozenset("area base basefont bgsound br col embed frame hr image img input keygen link meta param "
                  "source track wbr".split())
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())
# Elements that put a marker on the active formatting list: formatting elements do not leak out of them.
_MARKERS = frozenset("applet caption marquee object td th template".split())
# Inside these, content is HTML again (SVG's title and desc, MathML's text integration points).
_INTEGRATION_POINTS = frozenset("foreignobject desc title mi mo mn ms mtext annotation-xml".split())
# ... each in its own namespace only: SVG's foreignObject, desc and title; MathML's others.
_POINTS_OF = {"svg": frozenset(("foreignobject", "desc", "title")),
              "math": frozenset("mi mo mn ms mtext annotation-xml".split())}
# Boundaries of "has an element in scope", SVG/MathML ones included (button scope adds button, list item scope
# ol and ul). Both ways matter: a boundary too many keeps elements open that the parser closes (fewer
# elements re-created later), one too few closes what the parser keeps open.
# html5ever reads a select's content by the body's rules, with the select as a boundary of scope.
_SCOPE = frozenset("applet caption html table td th marquee object template select".split()) | _INTEGRATION_POINTS
# The spec's "special" elements other than address, div and p: an open li/dd/dt behind one of these is not
# closed by the next li/dd/dt.
_SPECIAL = frozenset(
    "applet area article aside base basefont bgsound blockquote body br button caption center col colgroup dd "
    "details dir dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 head header "
    "hgroup hr html iframe img input keygen li link listing main marquee menu meta nav noembed noframes noscript "
    "object ol param plaintext pre script search section select source style summary table tbody td template "
    "textarea tfoot th thead title tr track ul wbr xmp".split()
) | _INTEGRATION_POINTS
_ALL_SPECIAL = _SPECIAL | {"address", "div", "p"}
# Start tags that close an open p (in button scope) before they open.
_CLOSES_P = frozenset(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption figure footer form h1 "
    "h2 h3 h4 h5 h6 header hgroup hr listing main menu nav ol p plaintext pre search section summary ul xmp dd "
    "dt li table".split()  # table: nh3 parses without quirks
)
# Start tags the parser inserts without first re-creating open formatting elements (it does so for text, inline
# and void elements, xmp and button). Re-creating before one of these would be too early: the copies would stay
# outside the block when it closes, and be counted once instead of each time.
_NO_RECONSTRUCT = (_CLOSES_P - {"xmp"}) | frozenset(
    "table hr param source track textarea iframe noembed noscript rb rtc rp rt caption col colgroup frame head "
    "tbody td tfoot th thead tr frameset base basefont bgsound link meta noframes script style template "
    "title".split()
)
# Ignored in body, outside a table.
_TABLE_PARTS = frozenset("caption col colgroup tbody td tfoot th thead tr".split())
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
# Start tags that leave SVG/MathML content (the parser pops foreign elements first); font only with color, face
# or size (_FONT_BREAKOUT, in tree_replay).
_BREAKOUT = frozenset(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i img li listing menu "
    "meta nobr ol p pre ruby s small span strong strike sub sup table tt u ul var font".split()
)
_FOREIGN_ROOTS = frozenset(("svg", "math"))
# There is one html, head and body: their start tags add attributes, their end tags pop nothing ("after body"
# goes back to "in body"); </form> takes the form out of the middle of the stack, leaving what is above it open.
_NOT_PUSHED = frozenset(("html", "head", "body"))
_END_POPS_NOTHING = frozenset(("html", "head", "body", "form"))
