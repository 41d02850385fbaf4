"""The demo university's service catalogue, in the same shape as a catalogue YAML file."""

from __future__ import annotations

from typing import Any

DEMO_CATALOG: dict[str, Any] = {
    "services": [
        {
            "id": "vle",
            "name": "Moodle VLE",
            "aliases": ["moodle", "vle", "learn", "northgate learn"],
            "description": "The virtual learning environment: course pages, quizzes, lecture slides, assignment upload.",
            "examples": [
                "moodle has logged me out three times while uploading my essay",
                "can't see my module page on learn, just a blank screen",
                "the quiz timed out before I could submit",
            ],
            "team": "Digital Learning",
        },
        {
            "id": "student-email",
            "name": "Student e-mail",
            "aliases": ["email", "e-mail", "outlook", "webmail", "mail"],
            "description": "Student and staff e-mail in Outlook and webmail, calendars and shared mailboxes.",
            "examples": [
                "outlook won't load my inbox again",
                "not getting any emails from my tutor since this morning",
                "webmail keeps saying something went wrong",
            ],
            "team": "Collaboration Services",
        },
        {
            "id": "wifi",
            "name": "Wi-Fi and eduroam",
            "aliases": ["wifi", "wi-fi", "eduroam", "wireless", "internet", "network"],
            "description": "Campus wireless network (eduroam and guest Wi-Fi) in teaching buildings, the library and halls.",
            "examples": [
                "eduroam keeps dropping in the Hopkins building",
                "wifi in the library is painfully slow today",
                "can't connect to eduroam on my new laptop",
            ],
            "team": "Network Services",
        },
        {
            "id": "portal",
            "name": "Student portal",
            "aliases": ["portal", "my northgate", "student hub", "student record"],
            "description": "The student portal: personal details, module registration, fees, results and documents.",
            "examples": [
                "the portal won't let me register for my option modules",
                "my results aren't showing on the student hub",
                "portal error when paying fees",
            ],
            "team": "Student Systems",
        },
        {
            "id": "library",
            "name": "Library systems",
            "aliases": ["library", "library search", "catalogue", "e-journals", "ebooks", "reading lists"],
            "description": "Library search, e-journals and e-books access, loans, renewals and online reading lists.",
            "examples": [
                "library search says I don't have access to this journal",
                "can't renew my books online",
                "reading list links are all broken",
            ],
            "team": "Library Digital",
        },
        {
            "id": "vpn",
            "name": "VPN and remote access",
            "aliases": ["vpn", "globalprotect", "remote desktop", "remote access"],
            "description": "The VPN client and remote desktop for reaching university systems from off campus.",
            "examples": [
                "vpn won't connect from home",
                "globalprotect stuck on connecting",
                "remote desktop kicks me out every ten minutes",
            ],
            "team": "Network Services",
        },
        {
            "id": "printing",
            "name": "Printing",
            "aliases": ["printing", "printer", "printers", "print credit", "papercut"],
            "description": "Student print, copy and scan: printers across campus, print credit and release stations.",
            "examples": [
                "printer on level 2 ate my print credit",
                "papercut says I have no balance but I just topped up",
                "none of the printers in the library are releasing jobs",
            ],
            "team": "Campus IT Support",
        },
        {
            "id": "timetabling",
            "name": "Timetabling",
            "aliases": ["timetable", "timetabling", "my timetable", "room booking"],
            "description": "Personal timetables for students and staff, room bookings and timetable changes.",
            "examples": [
                "my timetable is empty for next week",
                "timetable says two lectures at the same time",
                "room on my timetable doesn't exist",
            ],
            "team": "Student Systems",
        },
        {
            "id": "submission",
            "name": "Assignment submission",
            "aliases": ["turnitin", "submission", "coursework submission", "hand-in", "assignment upload"],
            "description": "Online coursework submission and originality checking through Turnitin, with receipts.",
            "examples": [
                "turnitin won't accept my file and the deadline is in an hour",
                "no submission receipt after uploading my coursework",
                "similarity report has been pending all day",
            ],
            "team": "Digital Learning",
        },
        {
            "id": "sso",
            "name": "Single sign-on",
            "aliases": ["sso", "login", "log in", "sign in", "mfa", "authenticator", "password reset"],
            "description": "Single sign-on, multi-factor authentication and password resets for every university system.",
            "examples": [
                "can't log in to anything, sso just loops",
                "mfa code never arrives",
                "password reset link has expired twice",
            ],
            "team": "Identity and Access",
        },
        {
            "id": "lecture-capture",
            "name": "Lecture capture",
            "aliases": ["panopto", "lecture recordings", "recordings", "lecture capture", "replay"],
            "description": "Recorded lectures in Panopto: recording in theatres, publishing and playback.",
            "examples": [
                "yesterday's lecture recording has no sound",
                "panopto videos won't play on my phone",
                "the recording for week 5 is missing",
            ],
            "team": "Digital Learning",
        },
        {
            "id": "service-desk",
            "name": "IT service desk",
            "aliases": ["service desk", "helpdesk", "help desk", "it support", "ticket"],
            "description": "The IT service desk: phone, chat, walk-in support and tickets.",
            "examples": [
                "been on hold with the it helpdesk for 40 minutes",
                "my ticket was closed without anyone replying",
                "the it support chat was really helpful, thanks",
            ],
            "team": "Service Desk",
        },
    ]
}
