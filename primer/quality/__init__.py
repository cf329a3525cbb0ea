"""The course checking itself: the test suite, the chapter's claims and errata, the lab and the browser."""
