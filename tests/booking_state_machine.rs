//! Property-based test of the booking state machine: random sequences of create, pay,
//! cancel, expire and sweep, run through the real services on a fresh SQLite database, keep
//! the invariants after every step:
//! - a seat is held or booked by at most one live booking, and every live booking holds all
//!   of its seats;
//! - the flight's `seats_available` counter equals its available seats;
//! - for every booking, charges − refunds is 1 when it is confirmed and 0 otherwise.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use proptest::prelude::*;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use skybook::config::{Secret, Settings};
use skybook::models::booking::{booking, booking_seat, payment, sandbox_charge};
use skybook::models::catalog::{
    flight, flight_seat, CountryCode, Currency, FlightNumber, IataCode, Money, SeatCode, SeatLayout,
};
use skybook::models::identity::user;
use skybook::services::booking::bookings::{
    self, BookingForCreate, BookingPolicy, Caller, SeatRequest,
};
use skybook::services::booking::idempotency::IdempotencyKey;
use skybook::services::booking::payments::{self, PaymentForCreate, PaymentPolicy, PaymentRequest};
use skybook::services::booking::provider::{PaymentProvider, SandboxProvider};
use skybook::services::booking::sweeper;
use skybook::services::catalog::airplanes::{self, AirplaneForCreate, Cabin};
use skybook::services::catalog::airports::{self, AirportForCreate};
use skybook::services::catalog::cities::{self, CityForCreate};
use skybook::services::catalog::flights::{self, FlightForCreate};
use skybook::startup::prepare_database;

const SEATS: [&str; 4] = ["1A", "1B", "2A", "2B"];

#[derive(Debug, Clone)]
enum Op {
    Create {
        user: usize,
        seats: Vec<usize>,
        assigned: bool,
    },
    Pay {
        booking: usize,
        method: usize,
        key: u8,
    },
    Cancel {
        booking: usize,
        by_admin: bool,
    },
    Lapse {
        booking: usize,
    },
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..3usize, proptest::sample::subsequence(vec![0usize, 1, 2, 3], 1..=3), any::<bool>())
            .prop_map(|(user, seats, assigned)| Op::Create { user, seats, assigned }),
        3 => (0..8usize, 0..3usize, 0..3u8).prop_map(|(booking, method, key)| Op::Pay { booking, method, key }),
        1 => (0..8usize, any::<bool>()).prop_map(|(booking, by_admin)| Op::Cancel { booking, by_admin }),
        1 => (0..8usize).prop_map(|booking| Op::Lapse { booking }),
        1 => Just(Op::Sweep),
    ]
}

struct World {
    db: skybook::db::Database,
    provider: Arc<dyn PaymentProvider>,
    flight_id: i32,
    users: Vec<i32>,
    bookings: Vec<(i32, i32)>,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::defaults().expect("defaults");
    settings.database_url = Secret::new(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("p.db").display()
    ));
    let db = prepare_database(&settings).await.expect("database");
    let mut users = Vec::new();
    for n in 0..3 {
        let row = user::ActiveModel {
            email: Set(format!("u{n}@example.com")),
            name: Set(format!("U{n}")),
            password_hash: Set("unused".into()),
            role: Set("customer".into()),
            created_at: Set(skybook::clock::now()),
            ..Default::default()
        };
        users.push(
            user::Entity::insert(row)
                .exec(&db.writer)
                .await
                .expect("user")
                .last_insert_id,
        );
    }
    let city = cities::create(
        &db,
        CityForCreate {
            name: "P".into(),
            country_code: CountryCode::parse("IN").expect("IN"),
        },
    )
    .await
    .expect("city");
    for code in ["PAA", "PBB"] {
        airports::create(
            &db,
            AirportForCreate {
                code: IataCode::parse(code).expect("code"),
                name: code.into(),
                city_id: city.id,
                timezone: "Asia/Kolkata".parse().expect("tz"),
            },
        )
        .await
        .expect("airport");
    }
    let airplane = airplanes::create(
        &db,
        AirplaneForCreate {
            model: "Prop".into(),
            cabin: Cabin::new(2, SeatLayout::parse("AB").expect("layout"), 1).expect("cabin"),
        },
    )
    .await
    .expect("airplane");
    let inr = Currency::parse("INR").expect("INR");
    let departs = chrono::Utc::now() + chrono::Duration::days(2);
    let flight = flights::create(
        &db,
        FlightForCreate {
            flight_number: FlightNumber::parse("PR1").expect("number"),
            airplane_id: airplane.id,
            departure_airport: IataCode::parse("PAA").expect("code"),
            arrival_airport: IataCode::parse("PBB").expect("code"),
            departure_time: departs,
            arrival_time: departs + chrono::Duration::hours(1),
            price_economy: Money::new(1000, inr).expect("money"),
            price_business: Money::new(3000, inr).expect("money"),
        },
    )
    .await
    .expect("flight");
    World {
        provider: Arc::new(SandboxProvider::new(db.clone())),
        db,
        flight_id: flight.id,
        users,
        bookings: Vec::new(),
        _dir: dir,
    }
}

async fn apply(world: &mut World, op: &Op) {
    let policy = BookingPolicy {
        hold_ttl_seconds: 600,
        max_pending_bookings: 100,
        sales_close_minutes: 30,
        max_held_seats_per_client: 1_000,
        seat_guard: true,
        email_max_attempts: 3,
        outcomes: skybook::metrics::Outcomes::unobserved(),
    };
    let payment_policy = PaymentPolicy {
        lock_seconds: 120,
        sales_close_minutes: 30,
        pause_after_charge: false,
        email_max_attempts: 3,
        replies: &skybook::views::booking::PaymentJson,
        outcomes: skybook::metrics::Outcomes::unobserved(),
    };
    match op {
        Op::Create {
            user,
            seats,
            assigned,
        } => {
            let caller = Caller {
                user_id: world.users[*user],
                is_admin: false,
            };
            let request = if *assigned {
                SeatRequest::Assigned
            } else {
                SeatRequest::Chosen(
                    seats
                        .iter()
                        .map(|i| SeatCode::parse(SEATS[*i]).expect("seat"))
                        .collect(),
                )
            };
            let new = BookingForCreate {
                client: "127.0.0.1".into(),
                flight_id: world.flight_id,
                seats: request,
                passengers: seats.iter().map(|i| format!("P{i}")).collect(),
            };
            if let Ok(details) =
                bookings::create(&mut world.db.session(), caller, policy, new).await
            {
                world.bookings.push((details.booking.id, caller.user_id));
            }
        }
        Op::Pay {
            booking,
            method,
            key,
        } => {
            let Some(&(id, owner)) = world.bookings.get(*booking) else {
                return;
            };
            let stored = booking::Entity::find_by_id(id)
                .one(&world.db.writer)
                .await
                .expect("q")
                .expect("booking");
            let method = ["pm_card_ok", "pm_card_declined", "pm_card_error"][*method];
            let key = IdempotencyKey::parse(Some(&format!("k{key}"))).expect("key");
            let fingerprint = format!("{id}-{method}");
            let request = PaymentForCreate {
                amount: stored.total,
                currency: stored.currency,
                method: method.into(),
            };
            let caller = Caller {
                user_id: owner,
                is_admin: false,
            };
            let _ = payments::pay(
                &mut world.db.session(),
                world.provider.as_ref(),
                payment_policy,
                caller,
                PaymentRequest {
                    booking_id: id,
                    key,
                    fingerprint,
                    payment: request,
                },
            )
            .await;
        }
        Op::Cancel { booking, by_admin } => {
            let Some(&(id, owner)) = world.bookings.get(*booking) else {
                return;
            };
            let caller = Caller {
                user_id: if *by_admin { -1 } else { owner },
                is_admin: *by_admin,
            };
            let _ = bookings::cancel(&world.db, world.provider.clone(), policy, caller, id).await;
        }
        Op::Lapse { booking } => {
            let Some(&(id, _)) = world.bookings.get(*booking) else {
                return;
            };
            let past = skybook::clock::now() - chrono::Duration::seconds(1);
            booking::Entity::update_many()
                .col_expr(
                    booking::Column::ExpiresAt,
                    sea_orm::sea_query::Expr::value(past),
                )
                .filter(booking::Column::Id.eq(id))
                .exec(&world.db.writer)
                .await
                .expect("lapse");
            // The seats' hold ends with the booking's, as it would with time passing.
            flight_seat::Entity::update_many()
                .col_expr(
                    flight_seat::Column::HeldUntil,
                    sea_orm::sea_query::Expr::value(past),
                )
                .filter(flight_seat::Column::BookingId.eq(id))
                .filter(flight_seat::Column::Status.eq(flight_seat::STATUS_HELD))
                .exec(&world.db.writer)
                .await
                .expect("lapse seats");
        }
        Op::Sweep => {
            sweeper::sweep(&world.db, world.provider.as_ref(), payment_policy)
                .await
                .expect("sweep");
        }
    }
}

async fn check_invariants(world: &World, history: &[Op]) -> Result<(), String> {
    let now = skybook::clock::now();
    let all_bookings = booking::Entity::find()
        .all(&world.db.writer)
        .await
        .expect("bookings");
    let seats = flight_seat::Entity::find()
        .all(&world.db.writer)
        .await
        .expect("seats");
    let booked_seats = booking_seat::Entity::find()
        .all(&world.db.writer)
        .await
        .expect("booking seats");
    let mut claimed: HashMap<String, i32> = HashMap::new();
    for b in &all_bookings {
        let status = b.effective_status(now);
        if status != "pending" && status != "confirmed" {
            continue;
        }
        for seat in booked_seats.iter().filter(|s| s.booking_id == b.id) {
            if let Some(other) = claimed.insert(seat.seat.clone(), b.id) {
                return Err(format!(
                    "seat {} in live bookings {other} and {} after {history:?}",
                    seat.seat, b.id
                ));
            }
            let row = seats
                .iter()
                .find(|s| s.seat == seat.seat)
                .expect("seat row");
            if row.booking_id != Some(b.id) {
                return Err(format!(
                    "live booking {} lost seat {} after {history:?}",
                    b.id, seat.seat
                ));
            }
        }
    }
    let available = seats
        .iter()
        .filter(|s| s.status == flight_seat::STATUS_AVAILABLE)
        .count() as i32;
    let counter = flight::Entity::find_by_id(world.flight_id)
        .one(&world.db.writer)
        .await
        .expect("q")
        .expect("flight")
        .seats_available;
    if counter != available {
        return Err(format!(
            "counter {counter} != {available} available after {history:?}"
        ));
    }
    let payments = payment::Entity::find()
        .all(&world.db.writer)
        .await
        .expect("payments");
    let ledger = sandbox_charge::Entity::find()
        .all(&world.db.writer)
        .await
        .expect("ledger");
    for b in &all_bookings {
        let keys: HashSet<String> = payments
            .iter()
            .filter(|p| p.booking_id == b.id)
            .map(|p| p.provider_key())
            .collect();
        let net: i64 = ledger
            .iter()
            .filter(|c| keys.contains(&c.payment_ref))
            .map(|c| {
                if c.kind == sandbox_charge::CHARGE {
                    1
                } else {
                    -1
                }
            })
            .sum();
        let expected = i64::from(b.status == "confirmed");
        if net != expected {
            return Err(format!(
                "booking {} is {} with net charges {net} after {history:?}",
                b.id, b.status
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_booking_histories_keep_the_invariants(ops in proptest::collection::vec(op(), 1..30)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let result: Result<(), String> = runtime.block_on(async {
            let mut world = world().await;
            for (i, op) in ops.iter().enumerate() {
                apply(&mut world, op).await;
                check_invariants(&world, &ops[..=i]).await?;
            }
            Ok(())
        });
        prop_assert!(result.is_ok(), "{}", result.err().unwrap_or_default());
    }
}

/// The sandbox provider, noting the thread each charge and refund ran on.
struct ThreadRecording {
    inner: SandboxProvider,
    threads: std::sync::Mutex<Vec<String>>,
}

impl ThreadRecording {
    fn note(&self) {
        let name = std::thread::current()
            .name()
            .unwrap_or("unnamed")
            .to_string();
        self.threads.lock().expect("threads").push(name);
    }
}

#[async_trait::async_trait]
impl PaymentProvider for ThreadRecording {
    fn accepts(&self, method: &str) -> bool {
        self.inner.accepts(method)
    }

    async fn charge(
        &self,
        key: &str,
        amount: i64,
        currency: &str,
        method: &str,
    ) -> Result<
        skybook::services::booking::provider::ChargeOutcome,
        skybook::services::booking::provider::ProviderError,
    > {
        self.note();
        self.inner.charge(key, amount, currency, method).await
    }

    async fn refund(
        &self,
        key: &str,
    ) -> Result<(), skybook::services::booking::provider::ProviderError> {
        self.note();
        self.inner.refund(key).await
    }

    async fn find_charge(
        &self,
        key: &str,
    ) -> Result<Option<String>, skybook::services::booking::provider::ProviderError> {
        self.inner.find_charge(key).await
    }
}

#[test]
fn the_provider_is_never_called_from_the_database_write_lane() {
    // A real provider is a network call: waiting for it on SQLite's write lane would stall
    // every write behind it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let world = world().await;
        let provider = Arc::new(ThreadRecording {
            inner: SandboxProvider::new(world.db.clone()),
            threads: std::sync::Mutex::new(Vec::new()),
        });
        let caller = Caller {
            user_id: world.users[0],
            is_admin: false,
        };
        let policy = BookingPolicy {
            hold_ttl_seconds: 600,
            max_pending_bookings: 100,
            sales_close_minutes: 30,
            max_held_seats_per_client: 1_000,
            seat_guard: true,
            email_max_attempts: 3,
            outcomes: skybook::metrics::Outcomes::unobserved(),
        };
        let new = BookingForCreate {
            client: "127.0.0.1".into(),
            flight_id: world.flight_id,
            seats: SeatRequest::Chosen(vec![SeatCode::parse("1A").expect("seat")]),
            passengers: vec!["P".into()],
        };
        let booked = bookings::create(&mut world.db.session(), caller, policy, new)
            .await
            .expect("booked");
        let payment = PaymentForCreate {
            amount: booked.booking.total,
            currency: booked.booking.currency.clone(),
            method: "pm_card_ok".into(),
        };
        let paid = payments::pay(
            &mut world.db.session(),
            provider.as_ref(),
            PaymentPolicy {
                lock_seconds: 120,
                sales_close_minutes: 30,
                pause_after_charge: false,
                email_max_attempts: 3,
                replies: &skybook::views::booking::PaymentJson,
                outcomes: skybook::metrics::Outcomes::unobserved(),
            },
            caller,
            PaymentRequest {
                booking_id: booked.booking.id,
                key: IdempotencyKey::parse(Some("lane")).expect("key"),
                fingerprint: "lane".into(),
                payment,
            },
        )
        .await
        .expect("paid");
        assert_eq!(paid.response.status, 201);
        bookings::cancel(
            &world.db,
            provider.clone(),
            policy,
            caller,
            booked.booking.id,
        )
        .await
        .expect("cancelled and refunded");
        let threads = provider.threads.lock().expect("threads").clone();
        assert_eq!(threads.len(), 2, "one charge and one refund: {threads:?}");
        assert!(
            threads.iter().all(|name| name != "skybook-writer"),
            "the provider ran on the write lane: {threads:?}"
        );
    });
}
