"""Small inputs in every format, written for these tests (no text from ../shared)."""
from __future__ import annotations

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour Wire</title><link>https://wire.example.org/</link>
<language>en-gb</language>
<item><title>Pilots vote to end the strike</title>
<link>https://wire.example.org/pilots?utm_source=rss</link><guid>w-1</guid>
<pubDate>Fri, 14 Mar 2025 10:00:00 +0200</pubDate>
<description>&lt;p&gt;Harbour pilots &lt;b&gt;voted&lt;/b&gt; to return on Monday.&lt;/p&gt;&lt;script&gt;track()&lt;/script&gt;</description></item>
<item><title></title><description></description></item>
<item><title>Tug crews follow</title><link>https://wire.example.org/tugs</link><pubDate>someday</pubDate>
<description>Tug crews went back too.</description></item>
</channel></rss>
"""

RSS091 = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Caf\xe9 Gazette</title><link>http://cafe.example.com/</link>
<description>d</description><language>fr</language>
<item><title>Le caf\xe9 rouvre</title><link>http://cafe.example.com/rouvre</link>
<description>Le caf\xe9 du port rouvre ses portes.</description></item>
</channel></rss>
"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example.org/"><title>Ridge Daily</title><link>https://rdf.example.org/</link>
<description>d</description></channel>
<item rdf:about="https://rdf.example.org/snow"><title>Snow closes the ridge road</title>
<link>https://rdf.example.org/snow</link><dc:date>2025-01-05T07:00:00Z</dc:date>
<description>The ridge road is closed after heavy snow.</description></item>
</rdf:RDF>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Valley Notes</title><id>urn:valley</id>
<updated>2025-03-14T09:00:00Z</updated>
<entry><title>Orchard frost</title><id>urn:valley:1</id><link href="https://valley.example.net/frost"/>
<updated>2025-03-13T06:00:00Z</updated><author><name>R. Field</name></author>
<summary>Short summary.</summary>
<content type="html">&lt;p&gt;Frost hit the orchards.&lt;/p&gt;&lt;p&gt;Growers lit fires.&lt;/p&gt;</content></entry>
</feed>
"""

HTML_PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Mill fire | Town Post</title>
<meta property="og:site_name" content="Town Post">
<meta property="article:published_time" content="2025-03-11T07:30:00+01:00">
<meta name="author" content="K. Smith">
<link rel="canonical" href="https://town.example.com/mill-fire"></head>
<body><nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a></nav>
<article><h1>Mill fire</h1>
<p>A fire broke out at the old mill on Tuesday night, and firefighters worked until dawn to contain it.</p>
<p>No one was hurt, the fire brigade said, but the roof of the building collapsed into the yard.</p>
</article>
<aside class="advert">Subscribe now for half-price deals on garden furniture</aside>
<footer>Copyright Town Post. All rights reserved.</footer></body></html>
"""

HTML_JSONLD = """<html><head><title>Ignored title</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
 {"@type": "WebSite", "name": "Site"},
 {"@type": "NewsArticle", "headline": "Council backs the new cycle lane",
  "datePublished": "2025-02-03T12:00:00Z", "author": [{"@type": "Person", "name": "L. Rider"}],
  "publisher": {"@type": "Organization", "name": "Borough Bulletin"}}]}</script></head>
<body><main><p>The borough council voted on Monday to build a protected cycle lane along the river road.</p>
<p>Work starts in the spring and should take four months, the council's transport officer said.</p></main></body></html>
"""

HTML_TIME = """<html><head><title>Bakery wins prize</title></head><body>
<article><h1>Bakery wins prize</h1><time datetime="2025-04-01T09:00:00Z">1 April</time>
<p>The corner bakery on Mill Lane won the regional bread prize for its sourdough loaf this week.</p>
<p>The owners said they would keep their prices the same and thanked their early customers.</p></article>
</body></html>
"""

NEWSAPI = {
    "status": "ok",
    "totalResults": 2,
    "articles": [
        {"source": {"id": None, "name": "Coast Radio"}, "author": "J. Wave", "title": "Ferry fares fall",
         "description": "Fares drop by a tenth.", "url": "https://coast.example.com/fares#top",
         "publishedAt": "2025-03-12T08:00:00Z",
         "content": "Fares on the island ferry drop by a tenth from April."},
        {"source": {"id": "x", "name": "Coast Radio"}, "author": None, "title": "Lighthouse repainted",
         "description": "The lighthouse got a fresh coat of white paint.", "url": None,
         "publishedAt": 1741766400},
    ],
}

CSV = (
    "headline,story,when,link\n"
    '"Night market opens","Stalls stay open until midnight, the council said.",2025-03-10T18:00:00Z,'
    "https://town.example.com/market\n"
    '"Bad row",only two\n'
    '"Quoted, with comma","A body\nover two lines.",2025-03-11,https://town.example.com/quoted\n'
)

TSV = "title\tbody\tdate\tlanguage\nLibrary moves\tThe library moved to the old mill.\t1741600000\tEN\n"

MARKDOWN = "---\nlayout: post\n---\n# Quiet week at the port\n\nNothing much happened at the port this week.\n"
