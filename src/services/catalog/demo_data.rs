//! The demo catalog: real airports, real airplane layouts and a daily schedule.
//! Pure data; `services::catalog::demo` turns it into rows.

pub struct DemoCity {
    pub name: &'static str,
    /// ISO 3166-1 alpha-2
    pub country_code: &'static str,
}

pub struct DemoAirport {
    /// IATA code
    pub code: &'static str,
    pub name: &'static str,
    /// must equal the `name` of one entry of CITIES
    pub city: &'static str,
    /// IANA time zone name
    pub timezone: &'static str,
}

pub struct DemoAirplane {
    pub model: &'static str,
    pub rows: i32,
    /// letters of one row, a space marks an aisle, e.g. "ABC DEF"
    pub seat_letters: &'static str,
    /// the first N rows are business class
    pub business_rows: i32,
}

pub struct DemoRoute {
    /// airline designator + number for the outbound leg, e.g. "AI101"; the return leg uses `return_flight_number`
    pub flight_number: &'static str,
    pub return_flight_number: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    /// local departure time at `from`, "HH:MM"
    pub departs_local: &'static str,
    /// local departure time of the return leg at `to`, "HH:MM"
    pub returns_local: &'static str,
    pub duration_minutes: i64,
    /// must equal the `model` of one entry of AIRPLANES
    pub airplane: &'static str,
    /// minor units (e.g. paise for INR, cents for USD/EUR/SGD/AED/GBP)
    pub price_economy: i64,
    pub price_business: i64,
    /// ISO 4217
    pub currency: &'static str,
}

/// Another daily rotation on a route of ROUTES, so busy routes get several flights a day as
/// real ones do; it flies the route's airplane and duration.
pub struct DemoDeparture {
    /// the outbound `flight_number` of the route in ROUTES this one adds to
    pub route: &'static str,
    pub flight_number: &'static str,
    pub return_flight_number: &'static str,
    /// local departure time at the route's `from`, "HH:MM"
    pub departs_local: &'static str,
    /// local departure time of the return leg, "HH:MM"
    pub returns_local: &'static str,
    /// the route's fares scaled by this, so the flights of a day are not all one price
    pub fare_percent: i64,
}

pub const CITIES: &[DemoCity] = &[
    DemoCity {
        name: "New Delhi",
        country_code: "IN",
    },
    DemoCity {
        name: "Mumbai",
        country_code: "IN",
    },
    DemoCity {
        name: "Bengaluru",
        country_code: "IN",
    },
    DemoCity {
        name: "Chennai",
        country_code: "IN",
    },
    DemoCity {
        name: "Kolkata",
        country_code: "IN",
    },
    DemoCity {
        name: "Hyderabad",
        country_code: "IN",
    },
    DemoCity {
        name: "Kochi",
        country_code: "IN",
    },
    DemoCity {
        name: "Ahmedabad",
        country_code: "IN",
    },
    DemoCity {
        name: "Pune",
        country_code: "IN",
    },
    DemoCity {
        name: "Goa",
        country_code: "IN",
    },
    DemoCity {
        name: "Jaipur",
        country_code: "IN",
    },
    DemoCity {
        name: "Lucknow",
        country_code: "IN",
    },
    DemoCity {
        name: "Dubai",
        country_code: "AE",
    },
    DemoCity {
        name: "Singapore",
        country_code: "SG",
    },
    DemoCity {
        name: "London",
        country_code: "GB",
    },
    DemoCity {
        name: "Frankfurt",
        country_code: "DE",
    },
    DemoCity {
        name: "Paris",
        country_code: "FR",
    },
    DemoCity {
        name: "Amsterdam",
        country_code: "NL",
    },
    DemoCity {
        name: "New York",
        country_code: "US",
    },
    DemoCity {
        name: "San Francisco",
        country_code: "US",
    },
    DemoCity {
        name: "Tokyo",
        country_code: "JP",
    },
    DemoCity {
        name: "Hong Kong",
        country_code: "HK",
    },
    DemoCity {
        name: "Bangkok",
        country_code: "TH",
    },
    DemoCity {
        name: "Sydney",
        country_code: "AU",
    },
];

pub const AIRPORTS: &[DemoAirport] = &[
    DemoAirport {
        code: "DEL",
        name: "Indira Gandhi International Airport",
        city: "New Delhi",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "BOM",
        name: "Chhatrapati Shivaji Maharaj International Airport",
        city: "Mumbai",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "BLR",
        name: "Kempegowda International Airport",
        city: "Bengaluru",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "MAA",
        name: "Chennai International Airport",
        city: "Chennai",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "CCU",
        name: "Netaji Subhas Chandra Bose International Airport",
        city: "Kolkata",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "HYD",
        name: "Rajiv Gandhi International Airport",
        city: "Hyderabad",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "COK",
        name: "Cochin International Airport",
        city: "Kochi",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "AMD",
        name: "Sardar Vallabhbhai Patel International Airport",
        city: "Ahmedabad",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "PNQ",
        name: "Pune Airport",
        city: "Pune",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "GOI",
        name: "Goa International Airport (Dabolim)",
        city: "Goa",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "JAI",
        name: "Jaipur International Airport",
        city: "Jaipur",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "LKO",
        name: "Chaudhary Charan Singh International Airport",
        city: "Lucknow",
        timezone: "Asia/Kolkata",
    },
    DemoAirport {
        code: "DXB",
        name: "Dubai International Airport",
        city: "Dubai",
        timezone: "Asia/Dubai",
    },
    DemoAirport {
        code: "SIN",
        name: "Singapore Changi Airport",
        city: "Singapore",
        timezone: "Asia/Singapore",
    },
    DemoAirport {
        code: "LHR",
        name: "London Heathrow Airport",
        city: "London",
        timezone: "Europe/London",
    },
    DemoAirport {
        code: "FRA",
        name: "Frankfurt Airport",
        city: "Frankfurt",
        timezone: "Europe/Berlin",
    },
    DemoAirport {
        code: "CDG",
        name: "Paris Charles de Gaulle Airport",
        city: "Paris",
        timezone: "Europe/Paris",
    },
    DemoAirport {
        code: "AMS",
        name: "Amsterdam Airport Schiphol",
        city: "Amsterdam",
        timezone: "Europe/Amsterdam",
    },
    DemoAirport {
        code: "JFK",
        name: "John F. Kennedy International Airport",
        city: "New York",
        timezone: "America/New_York",
    },
    DemoAirport {
        code: "SFO",
        name: "San Francisco International Airport",
        city: "San Francisco",
        timezone: "America/Los_Angeles",
    },
    DemoAirport {
        code: "NRT",
        name: "Narita International Airport",
        city: "Tokyo",
        timezone: "Asia/Tokyo",
    },
    DemoAirport {
        code: "HKG",
        name: "Hong Kong International Airport",
        city: "Hong Kong",
        timezone: "Asia/Hong_Kong",
    },
    DemoAirport {
        code: "BKK",
        name: "Suvarnabhumi Airport",
        city: "Bangkok",
        timezone: "Asia/Bangkok",
    },
    DemoAirport {
        code: "SYD",
        name: "Sydney Kingsford Smith Airport",
        city: "Sydney",
        timezone: "Australia/Sydney",
    },
];

pub const AIRPLANES: &[DemoAirplane] = &[
    DemoAirplane {
        model: "Airbus A320neo",
        rows: 30,
        seat_letters: "ABC DEF",
        business_rows: 2,
    },
    DemoAirplane {
        model: "Boeing 737-800",
        rows: 32,
        seat_letters: "ABC DEF",
        business_rows: 3,
    },
    DemoAirplane {
        model: "ATR 72-600",
        rows: 18,
        seat_letters: "AC DF",
        business_rows: 0,
    },
    DemoAirplane {
        model: "Boeing 787-9",
        rows: 40,
        seat_letters: "ABC DEFG HJK",
        business_rows: 4,
    },
];

pub const ROUTES: &[DemoRoute] = &[
    // Indian domestic trunk routes, fares in paise.
    DemoRoute {
        flight_number: "AI805",
        return_flight_number: "AI806",
        from: "DEL",
        to: "BOM",
        departs_local: "07:00",
        returns_local: "10:30",
        duration_minutes: 130,
        airplane: "Airbus A320neo",
        price_economy: 550_000,
        price_business: 1_650_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E2131",
        return_flight_number: "6E2132",
        from: "DEL",
        to: "BLR",
        departs_local: "06:10",
        returns_local: "10:15",
        duration_minutes: 170,
        airplane: "Airbus A320neo",
        price_economy: 650_000,
        price_business: 1_950_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "UK851",
        return_flight_number: "UK852",
        from: "BOM",
        to: "BLR",
        departs_local: "08:35",
        returns_local: "11:50",
        duration_minutes: 105,
        airplane: "Airbus A320neo",
        price_economy: 450_000,
        price_business: 1_350_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AI401",
        return_flight_number: "AI402",
        from: "DEL",
        to: "CCU",
        departs_local: "09:45",
        returns_local: "13:05",
        duration_minutes: 135,
        airplane: "Airbus A320neo",
        price_economy: 580_000,
        price_business: 1_740_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E6183",
        return_flight_number: "6E6184",
        from: "DEL",
        to: "HYD",
        departs_local: "11:20",
        returns_local: "14:40",
        duration_minutes: 135,
        airplane: "Airbus A320neo",
        price_economy: 530_000,
        price_business: 1_590_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AI571",
        return_flight_number: "AI572",
        from: "BOM",
        to: "MAA",
        departs_local: "12:30",
        returns_local: "15:45",
        duration_minutes: 115,
        airplane: "Boeing 737-800",
        price_economy: 480_000,
        price_business: 1_440_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E7263",
        return_flight_number: "6E7264",
        from: "BLR",
        to: "MAA",
        departs_local: "07:40",
        returns_local: "09:25",
        duration_minutes: 60,
        airplane: "ATR 72-600",
        price_economy: 350_000,
        price_business: 1_050_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E5393",
        return_flight_number: "6E5394",
        from: "BOM",
        to: "GOI",
        departs_local: "14:20",
        returns_local: "16:25",
        duration_minutes: 75,
        airplane: "Airbus A320neo",
        price_economy: 380_000,
        price_business: 1_140_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E7461",
        return_flight_number: "6E7462",
        from: "DEL",
        to: "JAI",
        departs_local: "05:45",
        returns_local: "07:35",
        duration_minutes: 65,
        airplane: "ATR 72-600",
        price_economy: 350_000,
        price_business: 1_050_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AI431",
        return_flight_number: "AI432",
        from: "DEL",
        to: "LKO",
        departs_local: "18:05",
        returns_local: "20:15",
        duration_minutes: 70,
        airplane: "Airbus A320neo",
        price_economy: 400_000,
        price_business: 1_200_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AI681",
        return_flight_number: "AI682",
        from: "BOM",
        to: "COK",
        departs_local: "16:30",
        returns_local: "19:40",
        duration_minutes: 120,
        airplane: "Boeing 737-800",
        price_economy: 520_000,
        price_business: 1_560_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E6045",
        return_flight_number: "6E6046",
        from: "AMD",
        to: "BOM",
        departs_local: "08:00",
        returns_local: "09:55",
        duration_minutes: 75,
        airplane: "Airbus A320neo",
        price_economy: 360_000,
        price_business: 1_080_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "UK970",
        return_flight_number: "UK971",
        from: "PNQ",
        to: "DEL",
        departs_local: "19:10",
        returns_local: "21:50",
        duration_minutes: 125,
        airplane: "Airbus A320neo",
        price_economy: 600_000,
        price_business: 1_800_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E6621",
        return_flight_number: "6E6622",
        from: "HYD",
        to: "BLR",
        departs_local: "13:15",
        returns_local: "15:20",
        duration_minutes: 75,
        airplane: "Airbus A320neo",
        price_economy: 380_000,
        price_business: 1_140_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AI771",
        return_flight_number: "AI772",
        from: "CCU",
        to: "BLR",
        departs_local: "17:40",
        returns_local: "21:30",
        duration_minutes: 160,
        airplane: "Boeing 737-800",
        price_economy: 620_000,
        price_business: 1_860_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "6E2049",
        return_flight_number: "6E2050",
        from: "DEL",
        to: "COK",
        departs_local: "22:55",
        returns_local: "06:20",
        duration_minutes: 200,
        airplane: "Airbus A320neo",
        price_economy: 850_000,
        price_business: 2_550_000,
        currency: "INR",
    },
    // International departures from India, fares in paise.
    DemoRoute {
        flight_number: "AI915",
        return_flight_number: "AI916",
        from: "DEL",
        to: "DXB",
        departs_local: "08:05",
        returns_local: "13:40",
        duration_minutes: 220,
        airplane: "Airbus A320neo",
        price_economy: 1_450_000,
        price_business: 4_950_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "EK501",
        return_flight_number: "EK500",
        from: "BOM",
        to: "DXB",
        departs_local: "04:30",
        returns_local: "21:45",
        duration_minutes: 195,
        airplane: "Boeing 787-9",
        price_economy: 1_350_000,
        price_business: 4_600_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AI131",
        return_flight_number: "AI130",
        from: "BOM",
        to: "LHR",
        departs_local: "13:30",
        returns_local: "20:30",
        duration_minutes: 590,
        airplane: "Boeing 787-9",
        price_economy: 5_650_000,
        price_business: 19_800_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "BA142",
        return_flight_number: "BA143",
        from: "DEL",
        to: "LHR",
        departs_local: "14:20",
        returns_local: "20:55",
        duration_minutes: 580,
        airplane: "Boeing 787-9",
        price_economy: 5_400_000,
        price_business: 19_200_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "SQ511",
        return_flight_number: "SQ512",
        from: "BLR",
        to: "SIN",
        departs_local: "10:30",
        returns_local: "07:45",
        duration_minutes: 260,
        airplane: "Boeing 787-9",
        price_economy: 1_850_000,
        price_business: 6_400_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "SQ403",
        return_flight_number: "SQ402",
        from: "DEL",
        to: "SIN",
        departs_local: "23:30",
        returns_local: "18:20",
        duration_minutes: 335,
        airplane: "Boeing 787-9",
        price_economy: 2_150_000,
        price_business: 7_350_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AI119",
        return_flight_number: "AI116",
        from: "BOM",
        to: "JFK",
        departs_local: "01:55",
        returns_local: "11:00",
        duration_minutes: 960,
        airplane: "Boeing 787-9",
        price_economy: 8_900_000,
        price_business: 29_500_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "LH761",
        return_flight_number: "LH760",
        from: "DEL",
        to: "FRA",
        departs_local: "02:50",
        returns_local: "13:55",
        duration_minutes: 525,
        airplane: "Boeing 787-9",
        price_economy: 4_950_000,
        price_business: 17_800_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "AF225",
        return_flight_number: "AF226",
        from: "DEL",
        to: "CDG",
        departs_local: "10:05",
        returns_local: "21:15",
        duration_minutes: 570,
        airplane: "Boeing 787-9",
        price_economy: 5_100_000,
        price_business: 18_200_000,
        currency: "INR",
    },
    DemoRoute {
        flight_number: "KL880",
        return_flight_number: "KL879",
        from: "BLR",
        to: "AMS",
        departs_local: "02:25",
        returns_local: "14:40",
        duration_minutes: 630,
        airplane: "Boeing 787-9",
        price_economy: 5_350_000,
        price_business: 18_900_000,
        currency: "INR",
    },
    // Routes between international hubs, priced in the departure country's currency.
    DemoRoute {
        flight_number: "QF82",
        return_flight_number: "QF81",
        from: "SIN",
        to: "SYD",
        departs_local: "20:55",
        returns_local: "11:45",
        duration_minutes: 460,
        airplane: "Boeing 787-9",
        price_economy: 68_000,
        price_business: 345_000,
        currency: "SGD",
    },
    DemoRoute {
        flight_number: "CX504",
        return_flight_number: "CX505",
        from: "HKG",
        to: "NRT",
        departs_local: "09:10",
        returns_local: "15:25",
        duration_minutes: 250,
        airplane: "Boeing 787-9",
        price_economy: 360_000,
        price_business: 1_480_000,
        currency: "HKD",
    },
    DemoRoute {
        flight_number: "TG403",
        return_flight_number: "TG404",
        from: "BKK",
        to: "SIN",
        departs_local: "07:50",
        returns_local: "12:05",
        duration_minutes: 145,
        airplane: "Airbus A320neo",
        price_economy: 540_000,
        price_business: 1_850_000,
        currency: "THB",
    },
    DemoRoute {
        flight_number: "AA177",
        return_flight_number: "AA178",
        from: "JFK",
        to: "SFO",
        departs_local: "08:00",
        returns_local: "22:35",
        duration_minutes: 390,
        airplane: "Boeing 737-800",
        price_economy: 32_900,
        price_business: 124_900,
        currency: "USD",
    },
    DemoRoute {
        flight_number: "BA117",
        return_flight_number: "BA112",
        from: "LHR",
        to: "JFK",
        departs_local: "08:25",
        returns_local: "18:30",
        duration_minutes: 480,
        airplane: "Boeing 787-9",
        price_economy: 48_900,
        price_business: 285_000,
        currency: "GBP",
    },
];

/// Busy routes fly several times a day (DEL-BOM six times, DEL-BLR and BOM-BLR five).
pub const MORE_DEPARTURES: &[DemoDeparture] = &[
    DemoDeparture {
        route: "AI805",
        flight_number: "6E2175",
        return_flight_number: "6E2176",
        departs_local: "05:55",
        returns_local: "08:15",
        fare_percent: 85,
    },
    DemoDeparture {
        route: "AI805",
        flight_number: "UK955",
        return_flight_number: "UK956",
        departs_local: "09:30",
        returns_local: "13:00",
        fare_percent: 105,
    },
    DemoDeparture {
        route: "AI805",
        flight_number: "6E5317",
        return_flight_number: "6E5318",
        departs_local: "13:45",
        returns_local: "16:50",
        fare_percent: 90,
    },
    DemoDeparture {
        route: "AI805",
        flight_number: "AI887",
        return_flight_number: "AI888",
        departs_local: "17:10",
        returns_local: "19:55",
        fare_percent: 110,
    },
    DemoDeparture {
        route: "AI805",
        flight_number: "UK995",
        return_flight_number: "UK996",
        departs_local: "20:45",
        returns_local: "22:20",
        fare_percent: 95,
    },
    DemoDeparture {
        route: "6E2131",
        flight_number: "AI803",
        return_flight_number: "AI804",
        departs_local: "09:00",
        returns_local: "13:20",
        fare_percent: 110,
    },
    DemoDeparture {
        route: "6E2131",
        flight_number: "UK817",
        return_flight_number: "UK818",
        departs_local: "12:40",
        returns_local: "16:30",
        fare_percent: 100,
    },
    DemoDeparture {
        route: "6E2131",
        flight_number: "6E6071",
        return_flight_number: "6E6072",
        departs_local: "17:55",
        returns_local: "20:40",
        fare_percent: 85,
    },
    DemoDeparture {
        route: "6E2131",
        flight_number: "AI505",
        return_flight_number: "AI506",
        departs_local: "21:00",
        returns_local: "06:45",
        fare_percent: 95,
    },
    DemoDeparture {
        route: "UK851",
        flight_number: "6E5373",
        return_flight_number: "6E5374",
        departs_local: "06:20",
        returns_local: "09:10",
        fare_percent: 85,
    },
    DemoDeparture {
        route: "UK851",
        flight_number: "AI639",
        return_flight_number: "AI640",
        departs_local: "12:15",
        returns_local: "14:30",
        fare_percent: 105,
    },
    DemoDeparture {
        route: "UK851",
        flight_number: "6E6353",
        return_flight_number: "6E6354",
        departs_local: "17:30",
        returns_local: "19:55",
        fare_percent: 90,
    },
    DemoDeparture {
        route: "UK851",
        flight_number: "UK863",
        return_flight_number: "UK864",
        departs_local: "20:50",
        returns_local: "07:05",
        fare_percent: 100,
    },
    DemoDeparture {
        route: "6E6183",
        flight_number: "AI539",
        return_flight_number: "AI540",
        departs_local: "07:15",
        returns_local: "10:05",
        fare_percent: 105,
    },
    DemoDeparture {
        route: "6E6183",
        flight_number: "UK879",
        return_flight_number: "UK880",
        departs_local: "18:40",
        returns_local: "21:10",
        fare_percent: 95,
    },
    DemoDeparture {
        route: "AI401",
        flight_number: "6E2023",
        return_flight_number: "6E2024",
        departs_local: "06:40",
        returns_local: "10:20",
        fare_percent: 85,
    },
    DemoDeparture {
        route: "AI401",
        flight_number: "UK707",
        return_flight_number: "UK708",
        departs_local: "19:20",
        returns_local: "16:45",
        fare_percent: 100,
    },
    DemoDeparture {
        route: "AI571",
        flight_number: "6E5217",
        return_flight_number: "6E5218",
        departs_local: "07:05",
        returns_local: "10:40",
        fare_percent: 90,
    },
    DemoDeparture {
        route: "AI571",
        flight_number: "UK827",
        return_flight_number: "UK828",
        departs_local: "19:35",
        returns_local: "21:50",
        fare_percent: 105,
    },
    DemoDeparture {
        route: "6E7263",
        flight_number: "6E7279",
        return_flight_number: "6E7280",
        departs_local: "13:10",
        returns_local: "15:05",
        fare_percent: 95,
    },
    DemoDeparture {
        route: "6E7263",
        flight_number: "AI563",
        return_flight_number: "AI564",
        departs_local: "18:30",
        returns_local: "20:35",
        fare_percent: 110,
    },
    DemoDeparture {
        route: "6E6621",
        flight_number: "6E6625",
        return_flight_number: "6E6626",
        departs_local: "07:25",
        returns_local: "10:10",
        fare_percent: 90,
    },
    DemoDeparture {
        route: "6E6621",
        flight_number: "AI517",
        return_flight_number: "AI518",
        departs_local: "19:05",
        returns_local: "21:25",
        fare_percent: 105,
    },
    DemoDeparture {
        route: "6E5393",
        flight_number: "AI663",
        return_flight_number: "AI664",
        departs_local: "07:50",
        returns_local: "10:05",
        fare_percent: 110,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn airport(code: &str) -> Option<&'static DemoAirport> {
        AIRPORTS.iter().find(|a| a.code == code)
    }

    fn city(name: &str) -> Option<&'static DemoCity> {
        CITIES.iter().find(|c| c.name == name)
    }

    fn is_upper_ascii(s: &str, len: usize) -> bool {
        s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase())
    }

    fn is_hh_mm(s: &str) -> bool {
        s.len() == 5
            && s.as_bytes()[2] == b':'
            && chrono::NaiveTime::parse_from_str(s, "%H:%M").is_ok()
    }

    /// 2-character airline designator (letters/digits, at least one letter)
    /// followed by 1-4 digits without a leading zero.
    fn is_flight_number(s: &str) -> bool {
        if s.len() < 3 || s.len() > 6 || !s.is_ascii() {
            return false;
        }
        let (designator, number) = s.split_at(2);
        designator
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && designator.bytes().any(|b| b.is_ascii_uppercase())
            && number.bytes().all(|b| b.is_ascii_digit())
            && !number.starts_with('0')
    }

    fn currency_of_country(country_code: &str) -> Option<&'static str> {
        Some(match country_code {
            "IN" => "INR",
            "AE" => "AED",
            "SG" => "SGD",
            "GB" => "GBP",
            "DE" | "FR" | "NL" => "EUR",
            "US" => "USD",
            "JP" => "JPY",
            "HK" => "HKD",
            "TH" => "THB",
            "AU" => "AUD",
            _ => return None,
        })
    }

    fn minutes_of_day(s: &str) -> u32 {
        use chrono::Timelike;
        let t = chrono::NaiveTime::parse_from_str(s, "%H:%M").unwrap();
        t.hour() * 60 + t.minute()
    }

    #[test]
    fn cities_are_unique_with_alpha2_country_codes() {
        let mut names = HashSet::new();
        for c in CITIES {
            assert!(!c.name.is_empty());
            assert!(names.insert(c.name), "duplicate city {}", c.name);
            assert!(
                is_upper_ascii(c.country_code, 2),
                "bad country code {:?} for {}",
                c.country_code,
                c.name
            );
        }
    }

    #[test]
    fn airport_codes_are_unique_iata_codes() {
        let mut codes = HashSet::new();
        for a in AIRPORTS {
            assert!(is_upper_ascii(a.code, 3), "bad IATA code {:?}", a.code);
            assert!(codes.insert(a.code), "duplicate airport {}", a.code);
            assert!(!a.name.is_empty(), "airport {} has no name", a.code);
        }
    }

    #[test]
    fn every_airport_city_exists() {
        for a in AIRPORTS {
            assert!(
                city(a.city).is_some(),
                "airport {} is in unknown city {:?}",
                a.code,
                a.city
            );
        }
    }

    #[test]
    fn every_city_has_an_airport() {
        for c in CITIES {
            assert!(
                AIRPORTS.iter().any(|a| a.city == c.name),
                "city {} has no airport",
                c.name
            );
        }
    }

    #[test]
    fn airport_time_zones_parse() {
        for a in AIRPORTS {
            assert!(
                a.timezone.parse::<chrono_tz::Tz>().is_ok(),
                "airport {} has unknown time zone {:?}",
                a.code,
                a.timezone
            );
        }
    }

    #[test]
    fn airplanes_are_well_formed() {
        let mut models = HashSet::new();
        for p in AIRPLANES {
            assert!(models.insert(p.model), "duplicate airplane {}", p.model);
            assert!(p.rows > 0, "{} has no rows", p.model);
            assert!(
                (0..=p.rows).contains(&p.business_rows),
                "{} has {} business rows out of {}",
                p.model,
                p.business_rows,
                p.rows
            );
            let s = p.seat_letters;
            assert!(!s.is_empty(), "{} has no seats", p.model);
            assert!(
                !s.starts_with(' ') && !s.ends_with(' ') && !s.contains("  "),
                "{} has a malformed aisle in {:?}",
                p.model,
                s
            );
            let mut letters = HashSet::new();
            for ch in s.chars().filter(|&ch| ch != ' ') {
                assert!(
                    ch.is_ascii_uppercase(),
                    "{}: bad seat letter {:?}",
                    p.model,
                    ch
                );
                assert!(ch != 'I', "{}: seat letter I is never used", p.model);
                assert!(
                    letters.insert(ch),
                    "{}: duplicate seat letter {}",
                    p.model,
                    ch
                );
            }
        }
    }

    #[test]
    fn routes_reference_known_airports_and_airplanes() {
        for r in ROUTES {
            assert!(
                airport(r.from).is_some(),
                "{}: unknown airport {}",
                r.flight_number,
                r.from
            );
            assert!(
                airport(r.to).is_some(),
                "{}: unknown airport {}",
                r.flight_number,
                r.to
            );
            assert_ne!(
                r.from, r.to,
                "{} flies to where it departs",
                r.flight_number
            );
            assert!(
                AIRPLANES.iter().any(|p| p.model == r.airplane),
                "{}: unknown airplane {:?}",
                r.flight_number,
                r.airplane
            );
        }
    }

    #[test]
    fn city_pairs_are_not_duplicated() {
        let mut pairs = HashSet::new();
        for r in ROUTES {
            let pair = if r.from < r.to {
                (r.from, r.to)
            } else {
                (r.to, r.from)
            };
            assert!(pairs.insert(pair), "duplicate route {}-{}", r.from, r.to);
        }
    }

    #[test]
    fn every_airport_is_served() {
        for a in AIRPORTS {
            assert!(
                ROUTES.iter().any(|r| r.from == a.code || r.to == a.code),
                "airport {} has no flights",
                a.code
            );
        }
    }

    #[test]
    fn route_times_are_valid_24h_times() {
        for r in ROUTES {
            assert!(
                is_hh_mm(r.departs_local),
                "{}: bad time {:?}",
                r.flight_number,
                r.departs_local
            );
            assert!(
                is_hh_mm(r.returns_local),
                "{}: bad time {:?}",
                r.return_flight_number,
                r.returns_local
            );
        }
    }

    #[test]
    fn schedule_has_late_night_and_early_morning_departures() {
        let times = || {
            ROUTES
                .iter()
                .flat_map(|r| [r.departs_local, r.returns_local])
                .map(minutes_of_day)
        };
        assert!(times().any(|m| m >= 23 * 60), "no departure after 23:00");
        assert!(times().any(|m| m < 6 * 60), "no departure before 06:00");
    }

    #[test]
    fn durations_and_prices_are_plausible() {
        for r in ROUTES {
            assert!(
                (30..=20 * 60).contains(&r.duration_minutes),
                "{}: implausible duration {}",
                r.flight_number,
                r.duration_minutes
            );
            assert!(r.price_economy > 0, "{}: free economy", r.flight_number);
            assert!(
                r.price_business > r.price_economy,
                "{}: business is not dearer than economy",
                r.flight_number
            );
            assert!(
                is_upper_ascii(r.currency, 3),
                "{}: bad currency {:?}",
                r.flight_number,
                r.currency
            );
        }
    }

    #[test]
    fn routes_are_priced_in_the_departure_country_currency() {
        for r in ROUTES {
            let from = airport(r.from).expect("known airport");
            let country = city(from.city).expect("known city").country_code;
            assert_eq!(
                Some(r.currency),
                currency_of_country(country),
                "{} departs {} ({})",
                r.flight_number,
                r.from,
                country
            );
        }
    }

    #[test]
    fn flight_numbers_are_well_formed_and_unique() {
        let mut numbers = HashSet::new();
        for r in ROUTES {
            for n in [r.flight_number, r.return_flight_number] {
                assert!(is_flight_number(n), "bad flight number {:?}", n);
                assert!(numbers.insert(n), "duplicate flight number {}", n);
            }
            assert_eq!(
                r.flight_number[..2],
                r.return_flight_number[..2],
                "{} and {} are flown by different airlines",
                r.flight_number,
                r.return_flight_number
            );
        }
    }

    #[test]
    fn more_departures_are_well_formed() {
        let mut numbers: HashSet<&str> = ROUTES
            .iter()
            .flat_map(|r| [r.flight_number, r.return_flight_number])
            .collect();
        for d in MORE_DEPARTURES {
            assert!(
                ROUTES.iter().any(|r| r.flight_number == d.route),
                "{}: no route {}",
                d.flight_number,
                d.route
            );
            for n in [d.flight_number, d.return_flight_number] {
                assert!(is_flight_number(n), "bad flight number {:?}", n);
                assert!(numbers.insert(n), "duplicate flight number {}", n);
            }
            assert_eq!(d.flight_number[..2], d.return_flight_number[..2]);
            assert!(is_hh_mm(d.departs_local) && is_hh_mm(d.returns_local));
            assert!((50..=200).contains(&d.fare_percent), "{}", d.flight_number);
        }
    }

    #[test]
    fn the_busiest_routes_fly_several_times_a_day() {
        for (route, at_least) in [("AI805", 6), ("6E2131", 5), ("UK851", 5)] {
            let flights = 1 + MORE_DEPARTURES.iter().filter(|d| d.route == route).count();
            assert!(flights >= at_least, "{route}: {flights} a day");
        }
    }
}
