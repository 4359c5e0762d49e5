"""The demo's own data: fictional users, one demo proposal per Cambodian CoP (its narrative,
planned activities, draft agendas, expected participants), demo budgets and workflow states, and
which of the booklet's activities each approved demo grant delivers.

Reference data (programmes, organisations, CoPs and members, the booklet's activities, outputs
and lessons) is NOT here: it is in the fixtures (`fixtures/`, described in fixtures/README.md),
transcribed from the seed documents with no figure invented. Everything here is demo data: the
proposals' texts follow the booklet's project ideas, but the agendas, the expected participant
numbers, the budgets (DEMO_BUDGETS), the workflow states (DEMO_STATES) and the users (DEMO_USERS)
are invented for the demo, NOT the CoPs' real plans or staff.

Pure data: nothing here may import Django or contain logic.
"""

import datetime
from decimal import Decimal

# ---------------------------------------------------------------------------------------------
# One demo proposal per Cambodian CoP (keyed by the CoP's code in the fixtures). Texts follow the
# booklet (001) and article (003); activities are the booklet's co-creation activities, with the
# dates the booklet gives (None where it gives none) and invented draft agendas and expected
# participants per rightsholder group.
# ---------------------------------------------------------------------------------------------

DEMO_PROPOSALS = [
    {
        "code": "cop-women",
        "project_title": "Women's Voice towards Inclusive",
        "problem_analysis": (
            "The intersectionality rightsholder group in communities often lacks access to "
            "ID-Poor cards and health equity fund cards, hindering their ability to access "
            "information, education, and social activities. They also face trauma from domestic "
            "violence and abuse, which can be emotional, physical, or economic. The community "
            "lacks access to sign language and social support for deaf individuals. Phase II of "
            "the project, linked to Phase I of CoP Women, aims to promote sign language in remote "
            "areas like Rattanakiri province, increase the capacity of five rightsholder groups "
            "with knowledge related to sign language, empower them to raise their voice through "
            "campaigns, and eliminate identity stigma and discrimination by gaining support from "
            "authorities to access public services. The project aims to address these issues and "
            "promote a more inclusive society for all."
        ),
        "objectives": [
            "Create a safe space where the five rightsholder groups connect, share their stories "
            "and reduce stigma and identity-based discrimination against each other.",
            "Promote sign language in remote areas such as Rattanakiri and build the five "
            "rightsholder groups' knowledge of it.",
            "Empower rightsholders to raise their voice through campaigns such as International Women's Day.",
            "Gain the support of authorities so that rightsholders can access public services "
            "(ID-Poor, health equity fund and disability identification cards).",
        ],
        "provinces": "Rattanakiri",
        "activities": [
            {
                "title": "Community Solidarity for Women Empowerment",
                # 001 outputs: 29 October 2023; article 003 says 28 October 2023. The booklet
                # (main source) is followed.
                "start": datetime.date(2023, 10, 29),
                "end": datetime.date(2023, 10, 29),
                "place": "Rattanakiri",
                "agenda": (
                    "08:30 Registration and welcome\n"
                    "09:00 History, journey and objectives of CoP-Women\n"
                    "09:45 Life stories from each of the five rightsholder groups\n"
                    "13:30 Capacity strengthening: speaking up to local authorities\n"
                    "15:30 Participants' requests to authorities and closing"
                ),
                "participants": {"women": 12, "pwd": 8, "lgbtiq": 6, "age": 8, "indigenous": 10},
            },
            {
                "title": ("Linking and Learning Event on Freedom, Equality, and Freedom from Discrimination"),
                "start": datetime.date(2023, 12, 11),
                "end": datetime.date(2023, 12, 12),
                "place": "Rattanakiri",
                "agenda": (
                    "08:30 Welcome and recap of the first CoP-Women workshop\n"
                    "09:00 Stories and challenges of the five rightsholder groups\n"
                    "13:30 Dialogue with local stakeholders on identity-based discrimination\n"
                    "Day 2 08:30 Joint commitments and next steps\n"
                    "Day 2 11:30 Reflection and closing"
                ),
                "participants": {"women": 12, "pwd": 8, "lgbtiq": 6, "age": 8, "indigenous": 10},
            },
            {
                "title": (
                    "Advocate and promote sign language with five rightsholder groups in the "
                    "community in Rattanakiri province"
                ),
                "start": datetime.date(2024, 2, 25),
                "end": datetime.date(2024, 2, 26),
                "place": "Rattanakiri",
                "agenda": (
                    "08:30 Welcome and introduction of the new member (sign language)\n"
                    "09:00 Inclusive language; facts about deaf people and sign language\n"
                    "13:30 Deaf participants share their experiences\n"
                    "Day 2 08:30 Basic sign language lessons led by deaf facilitators\n"
                    "Day 2 14:00 Reflection and closing"
                ),
                "participants": {"pwd": 12, "women": 8, "lgbtiq": 5, "age": 6, "indigenous": 9},
            },
            {
                "title": "Organize amplify campaign for celebrate the International Women's Day",
                # 001 prints "5th February 2024". International Women's Day is 8 March and the
                # booklet lists this after the 25-26 February workshop, so this may be a typo
                # for 5 March 2024; the printed date is kept.
                "start": datetime.date(2024, 2, 5),
                "end": datetime.date(2024, 2, 5),
                "place": "Banlung City, Rattanakiri",
                "agenda": (
                    "07:30 Registration at Banlung City Kindergarten\n"
                    "08:00 Opening remarks by provincial authorities\n"
                    "08:30 Voices of the five rightsholder groups\n"
                    "10:00 Street campaign with passers-by\n"
                    "11:30 Closing and group photo"
                ),
                "participants": {"women": 25, "pwd": 15, "lgbtiq": 15, "age": 20, "indigenous": 14},
            },
        ],
    },
    {
        "code": "cop-ip",
        "project_title": (
            "Amplifying the voice of the Kui indigenous community through an Opera theatrical "
            "performance “Yike”"
        ),
        "problem_analysis": (
            "CoP IP has a co-initiative on amplifying the IP identity, especially on language "
            "through theatrical performances and multimedia. The project aims to promote and "
            "enhance the Kui people's indigenous language identity through theatrical "
            "performances, especially the Kui language. Performing arts is an innovative and "
            "creative approach to reflect the importance of language in community communication "
            "and encourage the next generation of Kuy youth to learn, understand, and speak the "
            "Kuy language in the community with louder and prouder. This is exciting as they "
            "will work with IP youth on stories and reflection on their crucial learning. This "
            "project is jointly implemented by IP grantee partners"
        ),
        "objectives": [
            "Promote and strengthen the Kui people's indigenous language identity through "
            "theatrical performance and multimedia.",
            "Encourage Kui youth to learn, understand and speak the Kui language in their community.",
            "Train a core group of indigenous youth actors to perform Yike opera in Kui, based "
            "on their community's stories.",
        ],
        "provinces": "Kompong Thom",
        # 001 outputs: the project ran January-March 2024 in Kompong Thom; only the performance
        # date (8 March 2024) is given.
        "activities": [
            {
                "title": "Script story installation",
                "start": None,
                "end": None,
                "place": "Kompong Thom",
                "agenda": (
                    "08:30 Welcome and purpose of the Yike performance\n"
                    "09:00 Collecting Kui community stories with elders and youth\n"
                    "13:30 Drafting the script in the Kui language\n"
                    "15:30 Reading and feedback"
                ),
                "participants": {"indigenous": 20, "age": 5},
            },
            {
                "title": "4 x 2 days training to core actor IP youth",
                "start": None,
                "end": None,
                "place": "Kompong Thom",
                "agenda": (
                    "08:00 Warm-up and voice training\n"
                    "09:30 Yike opera movement and singing\n"
                    "13:30 Scene rehearsal in the Kui language\n"
                    "16:00 Reflection on the day's learning"
                ),
                "participants": {"indigenous": 20},
            },
            {
                "title": "Exhibition, and performance on “Chheutéal's Shad”",
                "start": datetime.date(2024, 3, 8),
                "end": datetime.date(2024, 3, 8),
                "place": "Kompong Thom",
                "agenda": (
                    "14:00 Opening of the exhibition\n"
                    "15:00 Traditional Kui games\n"
                    "18:00 Welcome remarks\n"
                    "18:30 Yike opera performance in the Kui language\n"
                    "20:30 Reflection with the audience and closing"
                ),
                "participants": {"indigenous": 300, "age": 100},
            },
        ],
    },
    {
        "code": "cop-elderly-pwd",
        "project_title": "Amplify the Voice of Community through Theatre “MOTHER”",
        "problem_analysis": (
            "The elderly and individuals living with a disability often face barriers in "
            "participating in various activities due to illness, disabilities, and lack of "
            "understanding of the law. They also struggle with limited access to social "
            "services, especially for those with disabilities living in severe poverty. They "
            "lack information about social assistance and protection programs and lack "
            "publicity and inclusive facilities. To address these issues, CoP of people with "
            "disabilities and older people used community theater to voice their concerns. "
            "Community theater aims to bring the stories of vulnerable people's vulnerabilities "
            "to the public audience, allowing stakeholders to hear and respond to their issues."
        ),
        "objectives": [
            "Raise elderly people's and people with disabilities' awareness of their rights and "
            "of social assistance and protection programmes.",
            "Bring their real-life stories to the public through community (forum) theatre.",
            "Let local authorities and stakeholders hear and respond to their needs for better "
            "access to public services.",
        ],
        "provinces": "Battambang",
        "activities": [
            {
                "title": "Training on the rights of people with disability and elderly",
                "start": None,
                "end": None,
                "place": "Battambang",
                "agenda": (
                    "08:30 Welcome and introductions\n"
                    "09:00 Rights of people with disabilities and older people\n"
                    "13:30 Social assistance and protection programmes: who can apply and how\n"
                    "15:30 Sharing of personal experiences and closing"
                ),
                "participants": {"pwd": 10, "age": 10, "women": 5},
            },
            {
                "title": "18 days of story script installation and rehearsal training",
                "start": None,
                "end": None,
                "place": "Battambang",
                "agenda": (
                    "08:00 Warm-up and theatre games\n"
                    "09:00 Story collection and script writing\n"
                    "13:30 Rehearsal of scenes\n"
                    "16:00 Feedback from the LKO trainers"
                ),
                "participants": {"pwd": 5, "age": 5, "women": 5},
            },
            {
                "title": "Big Performance day “Mother” and reflection",
                # 001 outputs: "1st - 2nd of March 2024, Battambang" (the forum theatre started
                # at 2 pm).
                "start": datetime.date(2024, 3, 1),
                "end": datetime.date(2024, 3, 2),
                "place": "Battambang",
                "agenda": (
                    "13:30 Welcome of audience and local authorities\n"
                    "14:00 Forum theatre performance “Mother”\n"
                    "15:30 Audience discussion: access to public services\n"
                    "Day 2 09:00 Reflection of performers and CoP members"
                ),
                "participants": {"pwd": 40, "age": 40, "women": 20},
            },
        ],
    },
    {
        "code": "cop-lgbtiq",
        "project_title": "Unfolding LGBTQ+ journey: embracing diversity, equality, and inclusion",
        "problem_analysis": (
            "The public's awareness of the challenges faced by LGBT couples and individuals is "
            "lacking. This project aims to bridge this gap by capturing heartwarming documentary "
            "videos that celebrates the power of love, acceptance, and the power of love to "
            "overcome even the toughest obstacles. The stories follow a beautiful LGBTI couple as "
            "they navigate life together, facing the challenges and triumphs of being true to "
            "oneself and the power of love from their families. The project will feature "
            "resilience, courage, and unwavering commitment to each other, leaving audiences "
            "moved and inspired. The project is a bold step towards creating a society that "
            "embraces diversity, inclusion, and equality by documenting the real-life experience "
            "of LGBTQ+ couples, celebrating Month of Love (February) by documenting families and "
            "their LGBTQ+ children through acceptance stories, and raising awareness about the "
            "LGBTQ situation and rights to the public. It also highlights the challenges faced by "
            "LGBTQ couples, especially in Cambodia, where there is no legal marriage for LGBTQ "
            "couples."
        ),
        "objectives": [
            "Raise public awareness of the situation and rights of LGBTIQ+ people in Cambodia.",
            "Document the real-life experience of LGBTIQ+ couples in three love-story videos.",
            "Celebrate the Month of Love (February) with an online campaign on family acceptance.",
            "Screen the videos publicly to celebrate IDAHOT.",
        ],
        "provinces": "Phnom Penh",
        # 001 outputs: "February - May 2024, Phnom Penh". The Month of Love is February (001);
        # the screening celebrated IDAHOT (17 May) but its exact date is not given.
        "activities": [
            {
                "title": "Celebrate Month of Love online campaign by capturing family acceptance",
                "start": datetime.date(2024, 2, 1),
                "end": datetime.date(2024, 2, 29),
                "place": "Online",
                "agenda": (
                    "Week 1 Filming family acceptance stories\n"
                    "Week 2 Editing short clips and designing posters\n"
                    "Week 3 Publishing clips on social media\n"
                    "Week 4 Live online discussion and campaign wrap-up"
                ),
                "participants": {"lgbtiq": 10},
            },
            {
                "title": "Document 3 LGBTIQ love stories videos",
                "start": None,
                "end": None,
                "place": "Phnom Penh",
                "agenda": (
                    "09:00 Briefing with the couple and consent to filming\n"
                    "09:30 Interviews with the couple and their families\n"
                    "13:30 Filming of daily-life scenes\n"
                    "16:00 Review of footage"
                ),
                "participants": {"lgbtiq": 6},
            },
            {
                "title": "Physical video screening to celebrate IDAHOT Day",
                "start": None,
                "end": None,
                "place": "Phnom Penh",
                "agenda": (
                    "17:30 Registration\n"
                    "18:00 Opening and storytelling by a lesbian woman\n"
                    "18:30 Screening of the three love-story videos with live lip-sync "
                    "performances\n"
                    "20:00 Audience sharing, Kahoot quiz and lucky draw"
                ),
                "participants": {"lgbtiq": 60, "women": 10, "age": 10},
            },
        ],
    },
    {
        "code": "cop-dic",
        "project_title": "Researching disability identity card (DIC)",
        "problem_analysis": (
            "The Disability Identification Card (DIC) is a vital tool for Persons with "
            "Disabilities (PwDs) to improve their quality of life and represent the government's "
            "recognition of their disabilities. It also aids in estimating the number of PWDs and "
            "adapting policies accordingly. However, many individuals face challenges accessing "
            "the ID card, including lack of knowledge, complexities in the application process, "
            "and lack of guidance. The reasons for these difficulties vary depending on the "
            "province of residence. To address these issues, a comprehensive study involving "
            "various stakeholders is proposed. The study will involve the LGBTQ community, "
            "seniors, minorities, and women, and will be conducted by a CoP. The findings will be "
            "shared with the grantee and rightsholder, as part of a linking and learning event in "
            "Kompot province. By identifying the exact causes of these difficulties, practical "
            "solutions can be developed to improve the quality of life for a significant portion "
            "of the population."
        ),
        "objectives": [
            "Identify why persons with disabilities find it hard to obtain the Disability "
            "Identification Card, and how this differs between provinces.",
            "Interview people with disabilities and local authorities about access to the card.",
            "Recommend practical solutions to the government and local authorities and share "
            "the findings with grantees and rightsholders.",
        ],
        # 001 spells "Kompot" (Kampot) for the dissemination event; the provinces of the data
        # collection are not named.
        "provinces": "Kampot",
        # 001 outputs: the research ran January - May 2024; no activity dates are given.
        "activities": [
            {
                "title": (
                    "Online Workshop with Partners to Elaborate on the Inquiry and Coordinate Data Collection"
                ),
                "start": None,
                "end": None,
                "place": "Online",
                "agenda": (
                    "09:00 Welcome and purpose of the study\n"
                    "09:20 Research questions and scope\n"
                    "10:00 Division of provinces among partners\n"
                    "10:45 Timeline and next steps"
                ),
                "participants": {"pwd": 10},
            },
            {
                "title": (
                    "Develop a Questionnaire for Adults with Disabilities or Their Parents about "
                    "Disability Card Access"
                ),
                "start": None,
                "end": None,
                "place": "",
                "agenda": (
                    "09:00 Review of existing DIC procedures\n"
                    "10:00 Drafting questions for adults with disabilities and parents\n"
                    "13:30 Drafting questions for local authorities\n"
                    "15:00 Accessibility check of the questionnaire"
                ),
                "participants": {"pwd": 6},
            },
            {
                "title": "Training Partners to Spread the Questionnaire and Organize Interviews",
                "start": None,
                "end": None,
                "place": "",
                "agenda": (
                    "08:30 Welcome\n"
                    "09:00 Walking through the questionnaire\n"
                    "10:30 Interview ethics, consent and accessibility\n"
                    "13:30 Practice interviews in pairs\n"
                    "15:30 Logistics of data collection"
                ),
                "participants": {"pwd": 15},
            },
            {
                "title": (
                    "Conducting 300 Interviews with Individuals with Disabilities and 84 with Local "
                    "Authorities (Individual or Group)"
                ),
                "start": None,
                "end": None,
                "place": "",
                "agenda": (
                    "08:00 Travel to the commune\n"
                    "09:00 Interviews with people with disabilities or their parents\n"
                    "13:30 Interview with commune authorities\n"
                    "16:00 Daily check of completed questionnaires"
                ),
                "participants": {"pwd": 300},
            },
            {
                "title": "Data Collection and Analysis",
                "start": None,
                "end": None,
                "place": "",
                "agenda": (
                    "09:00 Data entry and cleaning\n"
                    "13:30 Analysis by province and type of disability\n"
                    "16:00 First findings note"
                ),
                "participants": {"pwd": 4},
            },
            {
                "title": (
                    "Conduct a Workshop to Analyze and Adjust the Preliminary Report, and Find "
                    "Solutions to Better Disability Card Access"
                ),
                "start": None,
                "end": None,
                "place": "",
                "agenda": (
                    "08:30 Presentation of the preliminary report\n"
                    "10:00 Group work on findings by province\n"
                    "13:30 Solutions for better access to the card\n"
                    "15:30 Agreement on report changes"
                ),
                "participants": {"pwd": 15},
            },
            {
                "title": (
                    "Write a Final Report with Conclusions and Recommendations to the Government "
                    "and Local Authorities (Dissemination Workshop in a Big Group)"
                ),
                "start": None,
                "end": None,
                "place": "",
                "agenda": (
                    "09:00 Final structure of the report\n"
                    "10:00 Writing conclusions\n"
                    "13:30 Writing recommendations to government and local authorities\n"
                    "15:30 Review by CoP members"
                ),
                "participants": {"pwd": 5},
            },
            {
                "title": (
                    "Dissemination Meeting with Local Authorities and Government, Relevant Stakeholders"
                ),
                "start": None,
                "end": None,
                "place": "Kampot",
                "agenda": (
                    "08:30 Registration and welcome\n"
                    "09:00 Presentation of the findings\n"
                    "10:30 Panel with local authorities and government\n"
                    "13:30 Group discussion on recommendations\n"
                    "15:00 Commitments and closing"
                ),
                "participants": {"pwd": 30, "age": 5, "women": 5, "lgbtiq": 3, "indigenous": 3},
            },
        ],
    },
    {
        "code": "cop-art-mh",
        "project_title": "Paint Your Emotion",
        "problem_analysis": (
            "Hearing impairment individuals struggle with mental health due to difficulties in "
            "expressing and relaxing their emotions, leading to a loss of dreams, courage, and "
            "social participation. Sign Language and Arts and Mental Health aims to provide "
            "workshops to help deaf individuals learn new ways to express emotions, relax, and "
            "manage stress, promoting better mental health. Deaf people can learn to draw, "
            "practice, and understand that drawing is an easy way to express emotions and "
            "relieve stress. This can help them feel like sharing or spreading out, even if they "
            "can't tell anyone."
        ),
        "objectives": [
            "Help deaf people learn new ways to express their emotions, relax and manage stress.",
            "Teach basic drawing, painting and colour mixing, and how to connect emotions with "
            "colours and images.",
            "Promote better mental health and social participation of deaf people.",
        ],
        "provinces": "Phnom Penh",
        "activities": [
            {
                "title": "Paint Your Emotion workshop",
                "start": datetime.date(2024, 5, 26),
                "end": datetime.date(2024, 5, 26),
                "place": "Phnom Penh",
                "agenda": (
                    "08:30 Getting to know each other (with sign language interpretation)\n"
                    "09:15 Holding a pencil and brush; using and mixing colours\n"
                    "10:45 Painting and emotion: connecting feelings with colours and images\n"
                    "13:30 Painting your emotion\n"
                    "15:30 Sharing the paintings and closing"
                ),
                "participants": {"pwd": 20},
            },
        ],
    },
]

# DEMO budgets: demo figures, NOT the CoPs' real budgets. "activity" is an index into that CoP's
# "activities" list. Each CoP stays under EUR 9,000 (1 USD = 0.92 EUR, 1 KHR = 0.00023 EUR) and
# the six together under the EUR 50,000 fund.
DEMO_BUDGETS = {
    "cop-women": [
        # 0 Community Solidarity for Women Empowerment (1 day)
        {
            "activity": 0,
            "category": "venue",
            "description": "Meeting hall rental, Banlung",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("150.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "meals",
            "description": "Lunch and two coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("50"),
            "unit_cost": Decimal("8.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "travel",
            "description": "Transport allowance for participants from villages",
            "unit": "person",
            "quantity": Decimal("44"),
            "unit_cost": Decimal("10.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "travel",
            "description": "Bus Phnom Penh-Banlung return for CoP team",
            "unit": "person-trip",
            "quantity": Decimal("6"),
            "unit_cost": Decimal("30.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "other",
            "description": "Accommodation for CoP team",
            "unit": "room-night",
            "quantity": Decimal("12"),
            "unit_cost": Decimal("15.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "materials",
            "description": "Flipcharts, markers, name tags",
            "unit": "lump sum",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("60.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "communication",
            "description": "Short video “Women's Voice toward Inclusive”: filming and editing",
            "unit": "video",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("450.00"),
            "currency": "USD",
        },
        # 1 Linking and Learning Event on Freedom, Equality... (2 days)
        {
            "activity": 1,
            "category": "venue",
            "description": "Meeting hall rental, Banlung",
            "unit": "day",
            "quantity": Decimal("2"),
            "unit_cost": Decimal("150.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "meals",
            "description": "Lunch and two coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("100"),
            "unit_cost": Decimal("8.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "travel",
            "description": "Transport allowance for participants from villages",
            "unit": "person",
            "quantity": Decimal("44"),
            "unit_cost": Decimal("10.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "travel",
            "description": "Bus Phnom Penh-Banlung return for CoP team",
            "unit": "person-trip",
            "quantity": Decimal("6"),
            "unit_cost": Decimal("30.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "other",
            "description": "Accommodation for CoP team",
            "unit": "room-night",
            "quantity": Decimal("18"),
            "unit_cost": Decimal("15.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "personnel",
            "description": "Note-taker and article writer",
            "unit": "person-day",
            "quantity": Decimal("3"),
            "unit_cost": Decimal("50.00"),
            "currency": "USD",
        },
        # 2 Advocate and promote sign language (2 days)
        {
            "activity": 2,
            "category": "venue",
            "description": "Meeting hall rental, Banlung",
            "unit": "day",
            "quantity": Decimal("2"),
            "unit_cost": Decimal("150.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "meals",
            "description": "Lunch and two coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("90"),
            "unit_cost": Decimal("8.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "personnel",
            "description": "Sign language interpreters",
            "unit": "person-day",
            "quantity": Decimal("4"),
            "unit_cost": Decimal("80.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "personnel",
            "description": "Deaf sign language trainers",
            "unit": "person-day",
            "quantity": Decimal("4"),
            "unit_cost": Decimal("60.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "travel",
            "description": "Local tuk-tuk transport for deaf participants",
            "unit": "trip",
            "quantity": Decimal("30"),
            "unit_cost": Decimal("40000"),
            "currency": "KHR",
        },
        {
            "activity": 2,
            "category": "travel",
            "description": "Bus Phnom Penh-Banlung return for CoP team and trainers",
            "unit": "person-trip",
            "quantity": Decimal("8"),
            "unit_cost": Decimal("30.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "other",
            "description": "Accommodation for CoP team and trainers",
            "unit": "room-night",
            "quantity": Decimal("24"),
            "unit_cost": Decimal("15.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "communication",
            "description": "Video of learning results",
            "unit": "video",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("400.00"),
            "currency": "USD",
        },
        # 3 International Women's Day campaign (1 day, about 90 people)
        {
            "activity": 3,
            "category": "venue",
            "description": "Sound system and tent rental",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("250.00"),
            "currency": "USD",
        },
        {
            "activity": 3,
            "category": "materials",
            "description": "Campaign banners and posters",
            "unit": "lump sum",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("180.00"),
            "currency": "USD",
        },
        {
            "activity": 3,
            "category": "materials",
            "description": "Campaign T-shirts",
            "unit": "piece",
            "quantity": Decimal("90"),
            "unit_cost": Decimal("4.50"),
            "currency": "USD",
        },
        {
            "activity": 3,
            "category": "meals",
            "description": "Drinking water and snacks",
            "unit": "person",
            "quantity": Decimal("90"),
            "unit_cost": Decimal("8000"),
            "currency": "KHR",
        },
        {
            "activity": 3,
            "category": "travel",
            "description": "Transport allowance for participants from villages",
            "unit": "person",
            "quantity": Decimal("60"),
            "unit_cost": Decimal("8.00"),
            "currency": "USD",
        },
        {
            "activity": 3,
            "category": "communication",
            "description": "Video of the CoP journey",
            "unit": "video",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("500.00"),
            "currency": "USD",
        },
    ],
    "cop-ip": [
        # 0 Script story installation
        {
            "activity": 0,
            "category": "personnel",
            "description": "Script writer fluent in Kui",
            "unit": "person-day",
            "quantity": Decimal("10"),
            "unit_cost": Decimal("50.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "meals",
            "description": "Meals for story-collection meetings with elders",
            "unit": "person-day",
            "quantity": Decimal("40"),
            "unit_cost": Decimal("5.00"),
            "currency": "USD",
        },
        # 1 4 x 2 days training to core actor IP youth
        {
            "activity": 1,
            "category": "personnel",
            "description": "Yike opera trainers",
            "unit": "person-day",
            "quantity": Decimal("16"),
            "unit_cost": Decimal("60.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "meals",
            "description": "Lunch and snacks for youth actors",
            "unit": "person-day",
            "quantity": Decimal("160"),
            "unit_cost": Decimal("5.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "travel",
            "description": "Transport allowance for youth actors",
            "unit": "person-day",
            "quantity": Decimal("160"),
            "unit_cost": Decimal("3.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "venue",
            "description": "Rehearsal space in the community",
            "unit": "day",
            "quantity": Decimal("8"),
            "unit_cost": Decimal("30.00"),
            "currency": "USD",
        },
        # 2 Exhibition and performance
        {
            "activity": 2,
            "category": "venue",
            "description": "Stage, lights and sound system",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("700.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "materials",
            "description": "Costumes and props",
            "unit": "set",
            "quantity": Decimal("20"),
            "unit_cost": Decimal("25.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "materials",
            "description": "Exhibition panels and printing",
            "unit": "lump sum",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("250.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "communication",
            "description": "Amplifying posters for the performance",
            "unit": "poster",
            "quantity": Decimal("100"),
            "unit_cost": Decimal("1.50"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "communication",
            "description": "Video of project journey and full performance",
            "unit": "video",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("900.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "meals",
            "description": "Refreshments for performers and guests",
            "unit": "person",
            "quantity": Decimal("80"),
            "unit_cost": Decimal("4.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "travel",
            "description": "Bus Phnom Penh-Kompong Thom return for CoP team",
            "unit": "person-trip",
            "quantity": Decimal("6"),
            "unit_cost": Decimal("15.00"),
            "currency": "USD",
        },
    ],
    "cop-elderly-pwd": [
        # 0 Training on rights
        {
            "activity": 0,
            "category": "venue",
            "description": "Meeting room rental, Battambang",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "meals",
            "description": "Lunch and coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("30"),
            "unit_cost": Decimal("7.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "personnel",
            "description": "Trainer on rights of PwD and older people",
            "unit": "person-day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("80.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "travel",
            "description": "Accessible transport for participants",
            "unit": "person",
            "quantity": Decimal("25"),
            "unit_cost": Decimal("5.00"),
            "currency": "USD",
        },
        # 1 18 days of script installation and rehearsal
        {
            "activity": 1,
            "category": "personnel",
            "description": "Theatre trainers",
            "unit": "person-day",
            "quantity": Decimal("36"),
            "unit_cost": Decimal("40.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "meals",
            "description": "Lunch for performers",
            "unit": "person-day",
            "quantity": Decimal("270"),
            "unit_cost": Decimal("4.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "travel",
            "description": "Transport allowance for performers",
            "unit": "person-day",
            "quantity": Decimal("270"),
            "unit_cost": Decimal("2.00"),
            "currency": "USD",
        },
        # 2 Big Performance day “Mother” and reflection
        {
            "activity": 2,
            "category": "venue",
            "description": "Stage and sound system",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("400.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "materials",
            "description": "Costumes and props",
            "unit": "lump sum",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("250.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "meals",
            "description": "Refreshments for audience",
            "unit": "person",
            "quantity": Decimal("100"),
            "unit_cost": Decimal("2.50"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "communication",
            "description": "Photo and video documentation",
            "unit": "lump sum",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("350.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "meals",
            "description": "Reflection meeting lunch",
            "unit": "person",
            "quantity": Decimal("25"),
            "unit_cost": Decimal("28000"),
            "currency": "KHR",
        },
    ],
    "cop-lgbtiq": [
        # 0 Month of Love online campaign
        {
            "activity": 0,
            "category": "communication",
            "description": "Social media boosting for the campaign",
            "unit": "week",
            "quantity": Decimal("4"),
            "unit_cost": Decimal("40.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "personnel",
            "description": "Videographer for family acceptance clips",
            "unit": "person-day",
            "quantity": Decimal("4"),
            "unit_cost": Decimal("80.00"),
            "currency": "USD",
        },
        # 1 Three love-story videos
        {
            "activity": 1,
            "category": "personnel",
            "description": "Documentary crew (filming and editing)",
            "unit": "video",
            "quantity": Decimal("3"),
            "unit_cost": Decimal("600.00"),
            "currency": "USD",
        },
        {
            "activity": 1,
            "category": "travel",
            "description": "Crew transport to filming locations",
            "unit": "day",
            "quantity": Decimal("6"),
            "unit_cost": Decimal("25.00"),
            "currency": "USD",
        },
        # 2 IDAHOT screening
        {
            "activity": 2,
            "category": "venue",
            "description": "Screening venue with projector",
            "unit": "evening",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("300.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "meals",
            "description": "Snacks and drinks",
            "unit": "person",
            "quantity": Decimal("80"),
            "unit_cost": Decimal("5.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "personnel",
            "description": "Lip-sync performers",
            "unit": "performance",
            "quantity": Decimal("2"),
            "unit_cost": Decimal("50.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "other",
            "description": "Lucky-draw prizes",
            "unit": "prize",
            "quantity": Decimal("10"),
            "unit_cost": Decimal("10.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "communication",
            "description": "Amplifying posters",
            "unit": "poster",
            "quantity": Decimal("50"),
            "unit_cost": Decimal("2.00"),
            "currency": "USD",
        },
    ],
    "cop-dic": [
        # 0 Online workshop
        {
            "activity": 0,
            "category": "communication",
            "description": "Internet data allowance for partners",
            "unit": "person",
            "quantity": Decimal("10"),
            "unit_cost": Decimal("5.00"),
            "currency": "USD",
        },
        # 1 Questionnaire
        {
            "activity": 1,
            "category": "personnel",
            "description": "Research consultant: questionnaire design",
            "unit": "person-day",
            "quantity": Decimal("5"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        # 2 Training partners
        {
            "activity": 2,
            "category": "venue",
            "description": "Training room rental",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "meals",
            "description": "Lunch and coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("20"),
            "unit_cost": Decimal("7.00"),
            "currency": "USD",
        },
        {
            "activity": 2,
            "category": "personnel",
            "description": "Research consultant: enumerator training",
            "unit": "person-day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        # 3 Interviews
        {
            "activity": 3,
            "category": "personnel",
            "description": "Enumerator fee per completed interview",
            "unit": "interview",
            "quantity": Decimal("384"),
            "unit_cost": Decimal("5.00"),
            "currency": "USD",
        },
        {
            "activity": 3,
            "category": "travel",
            "description": "Enumerator travel to communes",
            "unit": "person-day",
            "quantity": Decimal("60"),
            "unit_cost": Decimal("12.00"),
            "currency": "USD",
        },
        {
            "activity": 3,
            "category": "other",
            "description": "Sign language interpretation for deaf respondents",
            "unit": "person-day",
            "quantity": Decimal("6"),
            "unit_cost": Decimal("80.00"),
            "currency": "USD",
        },
        # 4 Data collection and analysis
        {
            "activity": 4,
            "category": "personnel",
            "description": "Research consultant: data analysis",
            "unit": "person-day",
            "quantity": Decimal("10"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        # 5 Workshop on preliminary report
        {
            "activity": 5,
            "category": "venue",
            "description": "Meeting room rental",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        {
            "activity": 5,
            "category": "meals",
            "description": "Lunch and coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("20"),
            "unit_cost": Decimal("7.00"),
            "currency": "USD",
        },
        # 6 Final report
        {
            "activity": 6,
            "category": "personnel",
            "description": "Research consultant: report writing",
            "unit": "person-day",
            "quantity": Decimal("6"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        {
            "activity": 6,
            "category": "materials",
            "description": "Report printing (Khmer and English)",
            "unit": "copy",
            "quantity": Decimal("100"),
            "unit_cost": Decimal("5.00"),
            "currency": "USD",
        },
        # 7 Dissemination meeting in Kampot
        {
            "activity": 7,
            "category": "venue",
            "description": "Hall rental, Kampot",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("150.00"),
            "currency": "USD",
        },
        {
            "activity": 7,
            "category": "meals",
            "description": "Lunch and coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("50"),
            "unit_cost": Decimal("8.00"),
            "currency": "USD",
        },
        {
            "activity": 7,
            "category": "travel",
            "description": "Transport for participants to Kampot",
            "unit": "person",
            "quantity": Decimal("30"),
            "unit_cost": Decimal("15.00"),
            "currency": "USD",
        },
        {
            "activity": 7,
            "category": "other",
            "description": "Accommodation for participants from far provinces",
            "unit": "room-night",
            "quantity": Decimal("15"),
            "unit_cost": Decimal("15.00"),
            "currency": "USD",
        },
    ],
    "cop-art-mh": [
        # 0 Paint Your Emotion workshop
        {
            "activity": 0,
            "category": "venue",
            "description": "Workshop room rental, Phnom Penh",
            "unit": "day",
            "quantity": Decimal("1"),
            "unit_cost": Decimal("100.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "materials",
            "description": "Paper, brushes, paints and pencils",
            "unit": "participant kit",
            "quantity": Decimal("20"),
            "unit_cost": Decimal("12.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "personnel",
            "description": "Art facilitators",
            "unit": "person-day",
            "quantity": Decimal("2"),
            "unit_cost": Decimal("60.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "personnel",
            "description": "Sign language interpreters",
            "unit": "person-day",
            "quantity": Decimal("2"),
            "unit_cost": Decimal("80.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "meals",
            "description": "Lunch and coffee breaks",
            "unit": "person-day",
            "quantity": Decimal("25"),
            "unit_cost": Decimal("7.00"),
            "currency": "USD",
        },
        {
            "activity": 0,
            "category": "travel",
            "description": "Transport allowance for participants",
            "unit": "person",
            "quantity": Decimal("20"),
            "unit_cost": Decimal("20000"),
            "currency": "KHR",
        },
    ],
}

# Where each demo proposal stands in the workflow.
DEMO_STATES = {
    "cop-women": "approved",
    "cop-ip": "approved",
    "cop-elderly-pwd": "under_review",
    "cop-lgbtiq": "submitted",
    "cop-dic": "revision_requested",
    "cop-art-mh": "draft",
}

# DEMO users. ALL FICTIONAL: invented names, not the real staff named in the booklets, with
# @example.org addresses. "ratana.committee" is also affiliated with KHEN (a member of CoP-Women,
# CoP-Elderly & PwD and CoP-Disability Identity Card) to demonstrate a conflict of interest.
DEMO_USERS = [
    # Grantee staff (fictional)
    {
        "username": "sokha.wpm",
        "first_name": "Sokha",
        "last_name": "Mean",
        "email": "sokha.wpm@example.org",
        "role": "grantee_staff",
        "organisation": "WPM",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "dara.lid",
        "first_name": "Dara",
        "last_name": "Heng",
        "email": "dara.lid@example.org",
        "role": "grantee_staff",
        "organisation": "LiD",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "bopha.aua",
        "first_name": "Bopha",
        "last_name": "Sam",
        "email": "bopha.aua@example.org",
        "role": "grantee_staff",
        "organisation": "AUA",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "vannak.wwdlan",
        "first_name": "Vannak",
        "last_name": "Chea",
        "email": "vannak.wwdlan@example.org",
        "role": "grantee_staff",
        "organisation": "WWD-LAN",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "sreyneang.wwdlan",
        "first_name": "Sreyneang",
        "last_name": "Ouk",
        "email": "sreyneang.wwdlan@example.org",
        "role": "grantee_staff",
        "organisation": "WWD-LAN",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "chenda.sla",
        "first_name": "Chenda",
        "last_name": "Lim",
        "email": "chenda.sla@example.org",
        "role": "grantee_staff",
        "organisation": "SLA",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "vuthy.amh",
        "first_name": "Vuthy",
        "last_name": "Pen",
        "email": "vuthy.amh@example.org",
        "role": "grantee_staff",
        "organisation": "AMH",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "sophea.opkc",
        "first_name": "Sophea",
        "last_name": "Touch",
        "email": "sophea.opkc@example.org",
        "role": "grantee_staff",
        "organisation": "OPKC",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "rithy.phumasia",
        "first_name": "Rithy",
        "last_name": "Meas",
        "email": "rithy.phumasia@example.org",
        "role": "grantee_staff",
        "organisation": "PHUMASIA",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "piseth.rso",
        "first_name": "Piseth",
        "last_name": "Kong",
        "email": "piseth.rso@example.org",
        "role": "grantee_staff",
        "organisation": "RSO",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "kunthea.hac",
        "first_name": "Kunthea",
        "last_name": "Yim",
        "email": "kunthea.hac@example.org",
        "role": "grantee_staff",
        "organisation": "HAC",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "khamla.xonphao",
        "first_name": "Khamla",
        "last_name": "Inthavong",
        "email": "khamla.xonphao@example.org",
        "role": "grantee_staff",
        "organisation": "XONPHAO",
        "affiliations": [],
        "programme": "LA",
    },
    # Committee members (fictional); the first has a conflict of interest through KHEN.
    {
        "username": "ratana.committee",
        "first_name": "Ratana",
        "last_name": "Seng",
        "email": "ratana.committee@example.org",
        "role": "committee_member",
        "organisation": None,
        "affiliations": ["KHEN"],
        "programme": "KH",
    },
    {
        "username": "sophal.committee",
        "first_name": "Sophal",
        "last_name": "Keo",
        "email": "sophal.committee@example.org",
        "role": "committee_member",
        "organisation": None,
        "affiliations": [],
        "programme": "KH",
    },
    # Facilitators (fictional)
    {
        "username": "channary.llc",
        "first_name": "Channary",
        "last_name": "Prak",
        "email": "channary.llc@example.org",
        "role": "facilitator",
        "organisation": "LLC",
        "affiliations": [],
        "programme": "KH",
    },
    {
        "username": "souksavanh.stella",
        "first_name": "Souksavanh",
        "last_name": "Vongsa",
        "email": "souksavanh.stella@example.org",
        "role": "facilitator",
        "organisation": "STELLA",
        "affiliations": [],
        "programme": "LA",
    },
]

# Two-step login of the demo's committee members, facilitators and admin: every one of them has
# an authenticator with this secret (base32; add it to any authenticator app, or
# `oathtool --totp -b CCOPDEMOTOTPSECRETFORTHEDEMOONLY`) and these backup codes (each works once;
# `seed_demo` puts used ones back). Demo data only: documented in the README.
DEMO_TOTP_SECRET = "CCOPDEMOTOTPSECRETFORTHEDEMOONLY"  # noqa: S105 - demo data, documented
DEMO_BACKUP_CODES = ["2026000001", "2026000002", "2026000003", "2026000004", "2026000005"]

# ---------------------------------------------------------------------------------------------
# Activity reports of the approved demo grants.
#
# BOOKLET_DELIVERS: the booklet's activity records (fixtures/booklet.json, by reference) that the
# approved demo grant of their CoP delivers, each with the index of the planned activity it
# delivers in that CoP's demo proposal. seed_demo attaches them (`report_attach_to_grant`).
#
# DEMO_REPORTS: reports the demo files through the services for planned activities the booklet
# reports nothing about, to show the workflow (a submitted report waiting for the facilitator, a
# draft). Their participant figures are the demo proposal's expected ones: demo figures, marked
# `is_demo`, like the budgets.
# ---------------------------------------------------------------------------------------------

BOOKLET_DELIVERS = {
    "booklet-cop-women-solidarity": 0,
    "booklet-cop-women-freedom": 1,
    "booklet-cop-women-sign-language": 2,
    "booklet-cop-women-womens-day": 3,
    "booklet-cop-ip-kui": 2,
}

DEMO_REPORTS = [
    {
        "cop": "cop-ip",
        "activity": 0,
        "state": "submitted",
        "kind": "workshop",
        "description": (
            "Elders and youth of the Kui community told the stories the Yike performance is built "
            "on; the core actors drafted the script in the Kui language and read it back to the "
            "elders for their feedback."
        ),
        "participants_total": 25,
        "groups": {"indigenous": 20, "age": 5},
    },
    {
        "cop": "cop-ip",
        "activity": 1,
        "state": "draft",
        "kind": "training",
        "description": "",
        "participants_total": None,
        "groups": {},
    },
]
