"""The demo's words: templates the generator fills and roughens. Written for this project, not from a dataset.

Slots in braces are filled by the generator: {alias} (a name users call the service), {building}, {room},
{module}, {device}, {since}, {bad} and {good} (emoji), {first} (a first name), {hours}, {n}.
"""

from __future__ import annotations

BUILDINGS = [
    "Hopkins Building",
    "Whitfield Library",
    "Carver Hall",
    "the Business School",
    "Eldon Labs",
    "Ashdown halls",
    "the Sports Centre",
    "Marlowe Theatre block",
    "the Students' Union",
]
ROOMS = ["LT1", "LT3", "Hopkins 2.14", "Carver G.07", "Eldon 1.22", "the silent study room", "Marlowe 0.11"]
MODULES = [
    "ECON201",
    "PSY1002",
    "CS2040",
    "BIO1003",
    "LAW210",
    "Stats 2",
    "HIST115",
    "MA1501",
    "ENG220",
    "Organic Chem",
    "Intro to Psych",
    "NUR1204",
]
DEVICES = [
    "my laptop",
    "my phone",
    "my ipad",
    "my macbook",
    "the library pcs",
    "my chromebook",
    "the lab machines",
]
SINCE = [
    "since this morning",
    "all day",
    "for the last hour",
    "since like 9",
    "every single time",
    "since yesterday",
    "for about 20 mins now",
    "again",
]
BAD_EMOJI = ["😩", "😤", "🙃", "💀", "😭", "🤬", "😑", "🫠"]
GOOD_EMOJI = ["🙌", "❤️", "👏", "😊", "🎉", "💯", "🙏", "✨"]
FIRST_NAMES = [
    "Aisha", "Ben", "Chloe", "Dev", "Ella", "Femi", "Grace", "Harry", "Imogen", "Jake", "Kiran", "Lily",
    "Mohammed", "Niamh", "Oscar", "Priya", "Quinn", "Rhys", "Sophie", "Tom", "Uma", "Vikram", "Wen", "Xander",
    "Yasmin", "Zara", "Callum", "Ffion", "Hamza", "Isla", "Jordan", "Leah", "Marcus", "Nadia", "Owen", "Ruby",
    "Sam", "Tariq", "Amelia", "Declan", "Erin", "Gabriel", "Hannah", "Jamal", "Katie", "Luca", "Maya", "Noah",
    "Olivia", "Ravi", "Siobhan", "Theo", "Ciara", "Arjun", "Bethan", "Connor", "Dina", "Elliot", "Freya", "Kwame",
]  # fmt: skip
LAST_NAMES = [
    "Patel", "Okafor", "Williams", "Nguyen", "Murphy", "Hughes", "Khan", "Evans", "Fraser", "Clarke", "Kowalski",
    "Ahmed", "Brennan", "Davies", "Lewis", "Mensah", "O'Neill", "Rossi", "Singh", "Taylor", "Walsh", "Young",
    "Zhang", "Campbell", "Doyle", "Ferreira", "Gallagher", "Hassan", "Jones", "Lindqvist", "Moreno", "Price",
]  # fmt: skip
HANDLE_WORDS = [
    "sleepy", "caffeinated", "lost", "tired", "chaotic", "quiet", "northgate", "ngu", "library", "fresher",
    "finalyear", "geo", "chem", "psych", "law", "hist", "maths", "cs", "nursing", "econ", "badger", "otter",
    "owl", "fox", "heron", "toast", "noodle", "pixel", "kettle", "moth",
]  # fmt: skip
MASTODON_SERVERS = [
    "mastodon.social",
    "mas.to",
    "scholar.social",
    "mastodon.ac.uk",
    "hachyderm.io",
    "fosstodon.org",
]

# Per service: complaint, question, praise and neutral (a passing mention, neither happy nor unhappy).
SERVICE_TEXTS: dict[str, dict[str, list[str]]] = {
    "vle": {
        "complaint": [
            "{alias} has logged me out twice while I was halfway through the quiz {bad}",
            "why is {alias} so slow {since}, it takes a minute to open one pdf",
            "the {module} page on {alias} is just a blank white screen",
            "{alias} keeps saying my session expired. I literally just logged in",
            "lecture slides for {module} still not up on {alias} and the seminar is tomorrow",
            "cannot get {alias} to load on {device} at all {bad}",
            "the {alias} app crashes every time I open a forum post",
            "{alias} quiz submitted with 0 answers saved. I answered all of them. great",
        ],
        "question": [
            "does anyone know how to find the recordings tab on {alias}? it moved",
            "is there a way to get {alias} notifications without 40 emails a day?",
            "where do the {module} reading lists live on {alias} now?",
            "how do I unenrol from an old module on {alias}? my dashboard is a mess",
            "is {alias} being updated this weekend? saw something about maintenance",
        ],
        "praise": [
            "ok the new {alias} dashboard is actually really nice {good}",
            "credit where due, {alias} has been rock solid this term",
            "love that {alias} shows my deadlines in one place now {good}",
            "{alias} on {device} is so much better since the update",
        ],
        "neutral": [
            "just spent three hours on {alias} reading for {module}, send snacks",
            "{alias} announcement says the {module} seminar moved to {room}",
            "studying in {building}, {alias} open on one screen and netflix on the other",
            "tutor posted feedback on {alias}, scared to open it",
        ],
    },
    "student-email": {
        "complaint": [
            "{alias} won't load my inbox {since} {bad}",
            "not getting any emails from my tutor {since}, checked junk too",
            "{alias} keeps asking me to sign in again every 5 minutes",
            "webmail says 'something went wrong' whenever I try to attach a file",
            "my {alias} calendar invites are all showing an hour out",
            "sent an email to my supervisor and it bounced back?? mailbox full apparently",
        ],
        "question": [
            "how do I set up uni {alias} on {device}? the guide is from 2019",
            "can I forward my student {alias} to gmail or is that not allowed",
            "anyone know how big an attachment {alias} lets you send?",
            "do we keep our {alias} after graduating?",
        ],
        "praise": [
            "the new {alias} app setup was painless, fair play",
            "actually impressed, {alias} spam filter caught all the fake scholarship emails {good}",
            "shoutout to whoever fixed the {alias} calendar sync",
        ],
        "neutral": [
            "my {alias} has 2,341 unread, I've given up",
            "got an {alias} from the library saying my books are due lol",
            "checking {alias} at 2am because I'm a responsible adult",
        ],
    },
    "wifi": {
        "complaint": [
            "{alias} in {building} is painfully slow {since}",
            "{alias} keeps dropping in {room} {bad}",
            "can't connect to {alias} on {device}, it just says authentication failed",
            "the {alias} on the top floor of {building} is basically nonexistent",
            "tried to join a teams call from {building} and {alias} gave up on me",
            "{alias} in {building}: connected, no internet. classic",
        ],
        "question": [
            "how do I get {alias} working on a nintendo switch in halls?",
            "anyone know the {alias} settings for android? the cat tool doesn't work for me",
            "is there guest {alias} for visitors? my mum's coming to graduation",
            "does {alias} work at other unis too or just here?",
        ],
        "praise": [
            "{alias} in the library is flying today {good}",
            "whoever upgraded the {alias} in {building}, thank you, it's so much better",
            "honestly {alias} has been great this week, no drops at all",
        ],
        "neutral": [
            "sat in {building} all afternoon, {alias} ok, coffee not",
            "everyone's on {alias} in {room} watching the match instead of the lecture",
            "the {alias} password in the library is still on the whiteboard from 2022 apparently",
        ],
    },
    "portal": {
        "complaint": [
            "the {alias} won't let me register for my option modules {bad}",
            "my results aren't showing on the {alias} and everyone else has theirs",
            "{alias} error when paying fees, card got charged anyway??",
            "tried to download my council tax letter from the {alias}, just spins forever",
            "the {alias} logs me out every time I click 'documents'",
        ],
        "question": [
            "where on the {alias} do you change your term-time address?",
            "when do module choices open on the {alias}?",
            "how do I get a proof of enrolment letter from the {alias}?",
            "does anyone know why my {alias} says 'enrolment incomplete'?",
        ],
        "praise": [
            "the {alias} redesign is so much easier to use {good}",
            "got my enrolment letter from the {alias} in like 30 seconds, amazing",
        ],
        "neutral": [
            "refreshing the {alias} every 10 minutes waiting for marks",
            "updated my photo on the {alias}, the old one was a crime",
        ],
    },
    "library": {
        "complaint": [
            "{alias} says I don't have access to this journal but it's on my reading list",
            "can't renew my books online, {alias} just errors",
            "reading list links for {module} are all broken {bad}",
            "{alias} keeps sending me to a login page that loops",
            "ebook only lets one person read it at a time?? 200 of us need it this week",
        ],
        "question": [
            "how do I request a book from another library through {alias}?",
            "can you get e-journals off campus without the vpn?",
            "does {alias} have past exam papers or are they somewhere else?",
            "how many books can postgrads borrow?",
        ],
        "praise": [
            "the {alias} chat person found me the exact article I needed, legend {good}",
            "{alias} finally lets you renew everything in one click, thank you",
            "library staff sorted my access problem in five minutes {good}",
        ],
        "neutral": [
            "third floor of the Whitfield Library is the only place I can focus",
            "found the perfect source on {alias} at 1am, the dissertation lives",
            "reading lists for {module} are up on {alias} if anyone was looking",
        ],
    },
    "vpn": {
        "complaint": [
            "{alias} won't connect from home {since}",
            "{alias} stuck on 'connecting' forever {bad}",
            "remote desktop kicks me out every ten minutes, can't finish anything",
            "{alias} and my home wifi do not get along, nothing loads once it's on",
        ],
        "question": [
            "do I need the {alias} to get into the file share from home?",
            "is there a {alias} client for linux that actually works?",
            "how do I install {alias} on a mac? the download page is confusing",
        ],
        "praise": [
            "new {alias} client connects in two seconds now, nice one",
            "{alias} has been solid all week while I work from home {good}",
        ],
        "neutral": [
            "working from home today, {alias} on, cat on keyboard",
        ],
    },
    "printing": {
        "complaint": [
            "printer on level 2 of {building} ate my print credit {bad}",
            "{alias} says I have no balance but I just topped up",
            "none of the printers in the library are releasing jobs",
            "printed my dissertation and half the pages are blank. £8 gone",
            "the release station in {building} has been broken {since}",
        ],
        "question": [
            "can I print from {device} or do I have to use the library pcs?",
            "how much is colour printing now?",
            "does anyone know if the {building} printer does A3?",
            "how do I get a refund on {alias} for a failed print?",
        ],
        "praise": [
            "printing from my phone actually worked first time, I'm shook {good}",
            "the new printers in {building} are so fast",
        ],
        "neutral": [
            "queue for the printers in {building} is out the door, it's deadline week",
            "printed 60 pages of readings, will read 4 of them",
        ],
    },
    "timetabling": {
        "complaint": [
            "{alias} is empty for next week?? do I just not go in",
            "{alias} says two lectures at the same time on tuesday {bad}",
            "the room on my {alias} doesn't exist, walked round {building} for 20 minutes",
            "{alias} changed last minute and nobody told us",
        ],
        "question": [
            "how do I add my {alias} to google calendar?",
            "when does the exam {alias} come out?",
            "is the {module} seminar on the {alias} every week or fortnightly?",
        ],
        "praise": [
            "the {alias} calendar feed is a lifesaver {good}",
        ],
        "neutral": [
            "9am lecture on a friday, who designs this {alias}",
            "just realised my {alias} has me in {room} at 9 tomorrow",
        ],
    },
    "submission": {
        "complaint": [
            "{alias} won't accept my file and the deadline is in an hour {bad}",
            "no submission receipt after uploading my coursework, did it go through??",
            "similarity report has been pending all day",
            "{alias} says file type not supported, it's a pdf",
            "uploaded to {alias} and it shows someone else's title?? panicking",
        ],
        "question": [
            "does {alias} count the reference list in the similarity score?",
            "can you resubmit on {alias} before the deadline or is it one go?",
            "how long does the {alias} receipt take to come through?",
            "is the {module} deadline 23:59 or midday? the {alias} page says both",
        ],
        "praise": [
            "submitted on {alias} with 3 days to spare, who am I {good}",
            "{alias} upload was instant tonight, thank god",
        ],
        "neutral": [
            "essay submitted. going to sleep for 14 hours",
            "{module} coursework is in on {alias}, now the next one",
        ],
    },
    "sso": {
        "complaint": [
            "can't log in to anything, {alias} just loops back to the start",
            "{alias} code never arrives {bad}",
            "password reset link has expired twice {since}",
            "got a new phone and now I'm locked out because of {alias}",
            "why does {alias} make me sign in three times to open one thing",
        ],
        "question": [
            "how do I move my {alias} to a new phone?",
            "can I use a hardware key for {alias} instead of the app?",
            "how often do we have to change our uni password?",
        ],
        "praise": [
            "{alias} moved to my new phone without drama, first time ever {good}",
            "single sign-on is so much better than the 5 passwords we used to have",
        ],
        "neutral": [
            "typed my uni password wrong 4 times before coffee",
        ],
    },
    "lecture-capture": {
        "complaint": [
            "yesterday's lecture recording has no sound {bad}",
            "{alias} videos won't play on {device}",
            "the recording for {module} week 5 is missing",
            "{alias} cuts off the last 20 minutes of every lecture",
        ],
        "question": [
            "are all {module} lectures recorded or just some?",
            "can you download {alias} videos to watch on the train?",
            "how long after the lecture does the {alias} go up?",
        ],
        "praise": [
            "{alias} at 1.5x speed is how I survived this term {good}",
            "lecture recordings are up so quickly now, thank you",
        ],
        "neutral": [
            "watching {module} on {alias} in bed instead of going in, sorry",
        ],
    },
    "service-desk": {
        "complaint": [
            "been on hold with the {alias} for 40 minutes",
            "my ticket was closed without anyone replying {bad}",
            "{alias} chat says 'someone will be with you shortly' {since}",
            "walked to the {alias} in the library and it's closed, opening hours online say otherwise",
        ],
        "question": [
            "what are the {alias} opening hours on weekends?",
            "is the {alias} chat staffed in the evenings?",
            "how do I get a loan laptop from {alias}?",
        ],
        "praise": [
            "the {alias} chat was really helpful, sorted my laptop in 10 mins {good}",
            "huge thanks to {first} at the {alias}, absolute star",
            "{alias} fixed my account issue before I'd even finished my coffee",
            "shoutout to the {alias} team, so patient with me {good}",
        ],
        "neutral": [
            "dropped my laptop off at the {alias}, fingers crossed",
        ],
    },
}

# The three planted incidents, in the voices of people living through them.
INCIDENT_TEXTS: dict[str, dict[str, list[str]]] = {
    "vle-deadline": {
        "complaint": [
            "is {alias} down for anyone else?? deadline is midnight {bad}",
            "{alias} just gives me a 503 error",
            "MOODLE IS DOWN AND MY ESSAY IS DUE AT 23:59",
            "can't upload my assignment, {alias} keeps timing out {bad}{bad}",
            "{alias} gateway timeout every time I click submit",
            "literally been trying to submit on {alias} for 30 mins",
            "{alias} has died on deadline night, of course it has",
            "the {module} submission page won't load, {alias} completely broken",
            "will we get an extension if {alias} is down? it's been ages",
            "{alias} spinning wheel of doom, deadline in {n} minutes",
            "screenshotting the {alias} error as proof in case anyone asks later",
            "{alias} crashed halfway through my upload and now it says not submitted",
            "just refreshed {alias} for the 50th time, still down",
        ],
        "question": [
            "is anyone from IT aware {alias} is down? deadline tonight",
            "who do we email if {alias} won't let us submit before midnight?",
        ],
    },
    "wifi-building": {
        "complaint": [
            "{alias} in {building} is getting slower and slower",
            "anyone else's {alias} in {building} dropping every few minutes?",
            "{building} {alias} is unusable right now",
            "can't load anything on {alias} in {building}, phone data works fine",
            "lecture in {building} and the {alias} has just died for the whole room",
            "{alias} on the 2nd floor of {building} keeps disconnecting {bad}",
            "is {alias} broken in {building}? been like this since the morning",
            "{building} = no {alias} zone today apparently",
        ],
        "question": [
            "is there a known {alias} problem in {building}?",
            "anyone know if IT are looking at the {alias} in {building}?",
        ],
    },
    "email-outage": {
        "complaint": [
            "{alias} is down?? can't get into my inbox at all",
            "{alias} not loading for anyone else this morning?",
            "outlook says it can't connect to the server {bad}",
            "getting 'mailbox unavailable' on webmail",
            "{alias} down and I have a meeting link in there somewhere",
            "can't send or receive {alias}, both app and browser",
            "uni {alias} completely dead {since}",
            "is {alias} down?? my supervisor is waiting for my draft",
        ],
        "question": [
            "is there an {alias} outage? nothing is coming through",
            "does anyone know if {alias} is down for staff as well?",
        ],
    },
}

# Said once the incident is over.
INCIDENT_AFTER: dict[str, list[str]] = {
    "vle-deadline": [
        "{alias} is back, got my essay in {good}",
        "just submitted, {alias} works again. will we still get the extension?",
        "{alias} is working now for anyone still trying",
    ],
    "wifi-building": [
        "{alias} in {building} seems ok again",
        "{building} {alias} back to normal now, thanks whoever fixed it",
    ],
    "email-outage": [
        "{alias} back up for me now",
        "emails all came through at once, it's working again",
    ],
}

# Replies under someone else's post.
REPLY_AGREE = [
    "same here",
    "+1, same for me",
    "literally same {bad}",
    "yep, mine's been like this {since}",
    "same in {building}",
    "it's not just you",
    "omg I thought it was just me",
    "same, reported it on the widget",
]
REPLY_ANSWER = [
    "try clearing your cache, fixed it for me",
    "the service desk in the library sorted mine in 5 mins",
    "there's a guide on the IT pages, search the name of it",
    "I think you have to log out and back in first",
    "email the service desk, they're quick",
    "pretty sure it's on the left menu now",
    "ask your course rep, they'll know",
    "tried it on a different browser and it worked",
]
REPLY_PRAISE = ["agreed!", "this {good}", "so true", "yes!! finally"]
REPLY_OFFICIAL = [
    "Hi {first}, sorry about this. Could you send us a message with your student ID and we'll look into it? ^IT",
    "Thanks {first}, we've passed this to the team. If it carries on please log it at the service desk. ^IT",
    "Hi {first}, we're aware and working on it. Updates will be on the status page. ^IT",
    "Glad to hear it {first}, we'll pass that on to the team! ^IT",
]
OFFICIAL_AUTHOR = "Northgate University IT"

OFF_TOPIC = [
    "anyone know if the SU bar is open on sunday?",
    "lost a black umbrella in {room}, if found pls message me",
    "the geese by the lake are fighting again, stay safe everyone",
    "who's going to the quiz night at the SU tonight?",
    "the new coffee place in {building} is actually good {good}",
    "does anyone want to start a running club on wednesdays",
    "free pizza at the careers fair in {building}!!",
    "selling my {module} textbook, barely opened, £20",
    "anyone got a spare phone charger in {building}? mine died",
    "the heating in {building} is set to sauna again",
    "is the gym busy at 7am or am I dreaming",
    "missed the bus again, 3rd time this week",
    "what's the best cheap lunch on campus, asking for a broke friend",
    "fire alarm in {building} at 11 again lol",
    "can't believe it's week {n} already",
    "looking for a flatmate for next year, dm me",
]
SPAM = [
    "Need help with your assignment? Expert writers, 100% original, 24/7! WhatsApp +44 7{digits} #essayhelp",
    "Earn £{n}00 a day from home!!! No experience needed, click here: https://quick-cash-daily.example/join",
    "CHEAP ESSAYS 💯 any subject any deadline, first order 30% off -> essayprohub.example",
    "I made £3,000 last week trading crypto with this one trick, DM me to learn how 🚀🚀",
    "Get 10k followers fast!! real accounts, instant delivery: https://followerboost.example",
    "Student loan forgiveness available NOW, check eligibility at https://loan-relief-uk.example",
    "🔥 Dissertation writing service 🔥 PhD writers, plagiarism free, pay after delivery. Contact {first}",
    "Free iPhone giveaway for Northgate students!!! Just enter your uni login here https://ngu-prize.example",
    "Hot singles near campus 😍 https://meet-now.example",
    "Professional proofreading + Turnitin check before you submit! Cheap rates, message me 📩",
]
# What people call each service in their own words (the catalogue's aliases, mostly, and a few others).
SPOKEN_NAMES: dict[str, list[str]] = {
    "vle": ["moodle", "Moodle", "the vle", "learn", "Northgate Learn"],
    "student-email": ["email", "outlook", "uni email", "webmail", "Outlook"],
    "wifi": ["wifi", "eduroam", "the wifi", "wi-fi", "the internet"],
    "portal": ["portal", "student portal", "student hub", "My Northgate"],
    "library": ["library search", "the library website", "library catalogue", "e-journals"],
    "vpn": ["vpn", "VPN", "globalprotect", "remote access"],
    "printing": ["papercut", "print credit", "the printers", "printing"],
    "timetabling": ["timetable", "my timetable", "the timetable"],
    "submission": ["turnitin", "Turnitin", "the submission page", "coursework submission"],
    "sso": ["mfa", "sso", "the authenticator", "MFA", "single sign-on"],
    "lecture-capture": ["panopto", "Panopto", "lecture recordings", "replay"],
    "service-desk": ["service desk", "IT helpdesk", "helpdesk", "IT support"],
}
HASHTAGS = ["#NorthgateUni", "#studentlife", "#uni", "#ngu", "#freshers", "#deadlines", "#unilife"]
SERVICE_HASHTAGS: dict[str, list[str]] = {
    "vle": ["#moodle", "#vle"],
    "wifi": ["#eduroam", "#wifi"],
    "student-email": ["#outlook"],
    "printing": ["#papercut"],
    "submission": ["#turnitin"],
    "lecture-capture": ["#panopto"],
}
# The report-a-problem widget's problem types (the widget connector's own) and which fit each service.
WIDGET_PROBLEM_LABELS: dict[str, str] = {
    "down": "Not working",
    "slow": "Slow",
    "login": "Can't sign in",
    "other": "Something else",
}
WIDGET_PROBLEMS: dict[str, list[str]] = {
    "vle": ["down", "slow", "login"],
    "student-email": ["down", "login", "slow"],
    "wifi": ["down", "slow"],
    "portal": ["down", "other"],
    "library": ["login", "other"],
    "vpn": ["down", "slow"],
    "printing": ["down", "other"],
    "timetabling": ["other"],
    "submission": ["down", "other"],
    "sso": ["login", "down"],
    "lecture-capture": ["down", "other"],
    "service-desk": ["slow", "other"],
}
BLOG_COMMENTS = [
    "Thanks for writing this, it's good to hear what's planned for {alias}.",
    "Really useful update. Any news on when the {alias} in {building} will be sorted properly?",
    "As a member of staff I'd add that {alias} has improved a lot this year, thank you to the team.",
    "Appreciate the openness here. Could we get a status page link in the {alias} banner?",
    "Interesting post. Our department still struggles with {alias} on {device}, happy to help test fixes.",
    "Great to see IT asking for feedback. The {alias} changes last term were a real improvement.",
]
