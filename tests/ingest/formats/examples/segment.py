"""Segment and RudderStack calls, copied from their published specs (only `context.groupId` is added where said).

Sources:
- track, group, identify, page: https://segment.com/docs/connections/spec/track/ (group/, identify/, page/),
  the "complete example" of each (segmentio/segment-docs, src/connections/spec/*.md)
- batch: https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/#batch
- RudderStack track: https://www.rudderstack.com/docs/event-spec/standard-events/track/ (sample payload) with
  the common fields of https://www.rudderstack.com/docs/event-spec/standard-events/common-fields/
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["BATCH", "GROUP", "IDENTIFY", "PAGE", "RUDDER_TRACK", "TRACK", "fresh"]

TRACK: dict[str, Any] = {
    "anonymousId": "23adfd82-aa0f-45a7-a756-24f2a7a4c895",
    "context": {
        "library": {"name": "analytics.js", "version": "2.11.1"},
        "page": {"path": "/academy/", "referrer": "", "search": "", "title": "Analytics Academy",
                 "url": "https://segment.com/academy/"},
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_0) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/46.0.2490.86 Safari/537.36",
        "ip": "108.0.78.21",
    },
    "event": "Course Clicked",
    "integrations": {},
    "messageId": "ajs-f8ca1e4de5024d9430b3928bd8ac6b96",
    "properties": {"title": "Intro to Analytics"},
    "receivedAt": "2015-12-12T19:11:01.266Z",
    "sentAt": "2015-12-12T19:11:01.169Z",
    "timestamp": "2015-12-12T19:11:01.249Z",
    "type": "track",
    "userId": "AiUGstSDIg",
    "originalTimestamp": "2015-12-12T19:11:01.152Z",
}

GROUP: dict[str, Any] = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {"ip": "8.8.8.8", "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5) AppleWebKit/537.36 "
                                              "(KHTML, like Gecko) Chrome/40.0.2214.115 Safari/537.36"},
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "traits": {"name": "Initech", "industry": "Technology", "employees": 329, "plan": "enterprise",
               "total billed": 830},
    "type": "group",
    "userId": "97980cfea0067",
    "groupId": "0e8c78ea9d97a7b8185e8632",
    "version": "1.1",
}

IDENTIFY: dict[str, Any] = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {"ip": "8.8.8.8", "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5)"},
    "integrations": {"All": False, "Mixpanel": True, "Salesforce": True},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "traits": {"name": "Peter Gibbons", "email": "peter@example.com", "plan": "premium", "logins": 5,
               "address": {"street": "6th St", "city": "San Francisco", "state": "CA", "postalCode": "94103",
                           "country": "USA"}},
    "type": "identify",
    "userId": "97980cfea0067",
    "version": "1.1",
}

PAGE: dict[str, Any] = {
    "anonymousId": "507f191e810c19729de860ea",
    "channel": "browser",
    "context": {"ip": "8.8.8.8", "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_5)"},
    "integrations": {"All": True, "Mixpanel": False, "Salesforce": False},
    "messageId": "022bb90c-bbac-11e4-8dfc-aa07a5b093db",
    "name": "Home",
    "properties": {"title": "Welcome | Initech", "url": "http://www.example.com"},
    "receivedAt": "2015-02-23T22:28:55.387Z",
    "sentAt": "2015-02-23T22:28:55.111Z",
    "timestamp": "2015-02-23T22:28:55.111Z",
    "type": "page",
    "userId": "97980cfea0067",
    "version": "1.1",
}

#: Segment's own batch example: note its last two timestamps, `2015-2-02T...`, which are not RFC 3339.
BATCH: dict[str, Any] = {
    "batch": [
        {"type": "identify", "userId": "019mr8mf4r",
         "traits": {"email": "jake@yahoo.com", "name": "Jake Peterson", "age": 26},
         "timestamp": "2012-12-02T00:30:08.276Z"},
        {"type": "track", "userId": "019mr8mf4r", "event": "Song Played",
         "properties": {"name": "Fallin for You", "artist": "Dierks Bentley"},
         "timestamp": "2012-12-02T00:30:12.984Z"},
        {"type": "identify", "userId": "971mj8mk7p",
         "traits": {"email": "cindy@example.com", "name": "Cindy Gonzalez", "age": 23},
         "timestamp": "2015-2-02T00:30:08.276Z"},
        {"type": "track", "userId": "971mj8mk7p", "event": "Song Played",
         "properties": {"name": "Get Right", "artist": "Jennifer Lopez"},
         "timestamp": "2015-2-02T00:30:12.984Z"},
    ],
    "writeKey": "YOUR_WRITE_KEY",
    "context": {"device": {"type": "phone", "name": "Apple iPhone 6"}},
}

RUDDER_TRACK: dict[str, Any] = {
    "anonymousId": "8d872292709c6fbe",
    "channel": "web",
    "context": {"library": {"name": "RudderLabs JavaScript SDK", "version": "3.0.3"}, "locale": "en-US"},
    "event": "Product Reviewed",
    "integrations": {"All": True},
    "messageId": "ec5481b6-a926-4d2e-b293-0b3a77c4d3be",
    "originalTimestamp": "2022-02-01T19:14:18.381Z",
    "properties": {"review_id": "12345", "product_id": "123", "rating": 3.0,
                   "review_body": "Average product, expected much more."},
    "sentAt": "2022-02-01T19:14:20.000Z",
    "type": "track",
    "userId": "1hKOmRA4GRlm",
}


def fresh(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Return a deep copy of an example with top-level keys changed (a value of ... removes the key)."""
    out = copy.deepcopy(doc)
    for key, value in changes.items():
        if value is ...:
            out.pop(key, None)
        else:
            out[key] = value
    return out
